import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * What racks observe on their networks (MAAS's neighbours, shown as discoveries/): one row per
 * (rack, interface, IP, MAC) with when it was first and last seen, how often, and from what
 * (a DHCP lease today). No entity: only the discoveries repository reads and writes it.
 */
export class AddNeighbours1795700000005 implements MigrationInterface {
    name = 'AddNeighbours1795700000005'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neighbours" ("id" SERIAL NOT NULL, "ip" inet NOT NULL, "mac_address" character varying(17) NOT NULL, "hostname" character varying(255) NOT NULL DEFAULT '', "rack_id" integer NOT NULL, "interface_name" character varying(255) NOT NULL DEFAULT '', "vlan_id" integer, "source" character varying(16) NOT NULL DEFAULT 'dhcp', "count" integer NOT NULL DEFAULT 1, "first_seen" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_neighbours" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_neighbours_observation" ON "neighbours" ("rack_id", "interface_name", "ip", "mac_address")`);
        await queryRunner.query(`CREATE INDEX "IDX_neighbours_last_seen" ON "neighbours" ("last_seen")`);
        await queryRunner.query(`ALTER TABLE "neighbours" ADD CONSTRAINT "FK_neighbours_rack" FOREIGN KEY ("rack_id") REFERENCES "rack_controllers"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "neighbours" ADD CONSTRAINT "FK_neighbours_vlan" FOREIGN KEY ("vlan_id") REFERENCES "vlans"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "neighbours"`);
    }

}
