import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Devices' interfaces become interfaces like machines' (MAAS keeps both on one model): an
 * interface belongs to exactly one machine or one device, so a device's interfaces take VLANs,
 * tags, MTUs and subnet links with static addresses through nodes/{system_id}/interfaces/, and a
 * MAC is unique across machines and devices in one index. The device_interfaces rows move over.
 *
 * Deleting a link now frees the sticky (or AUTO) address it held, whatever deleted it (an interface,
 * machine or device deleted with it): before, deleting a machine left its addresses taken.
 */
export class AddDeviceInterfaces1795800000080 implements MigrationInterface {
    name = 'AddDeviceInterfaces1795800000080'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "interfaces" ADD "device_id" integer`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "FK_6019f37be1ba583941b47459928"`);
        await queryRunner.query(`ALTER TABLE "interfaces" ALTER COLUMN "machine_id" DROP NOT NULL`);
        await queryRunner.query(`CREATE INDEX "IDX_85264777155032c7ae29dcbfa4" ON "interfaces"  ("device_id") `);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "CHK_interfaces_one_node" CHECK (num_nonnulls("machine_id", "device_id") = 1)`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "FK_6019f37be1ba583941b47459928" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "FK_85264777155032c7ae29dcbfa40" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`INSERT INTO "interfaces" ("device_id", "name", "type", "mac_address") SELECT "device_id", "name", 'physical', "mac_address" FROM "device_interfaces" ORDER BY "id"`);
        await queryRunner.query(`DROP TABLE "device_interfaces"`);
        await queryRunner.query(`DELETE FROM "static_ip_addresses" WHERE "alloc_type" = 'sticky' AND "interface_id" IS NULL`);
        await queryRunner.query(`CREATE FUNCTION kiln_free_sticky_ip() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              DELETE FROM static_ip_addresses WHERE id = OLD.static_ip_id AND alloc_type IN ('sticky', 'auto');
              RETURN NULL;
            END $$`);
        await queryRunner.query(`CREATE TRIGGER interface_links_free_sticky_ip AFTER DELETE ON "interface_links" FOR EACH ROW WHEN (OLD.static_ip_id IS NOT NULL) EXECUTE FUNCTION kiln_free_sticky_ip()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER interface_links_free_sticky_ip ON "interface_links"`);
        await queryRunner.query(`DROP FUNCTION kiln_free_sticky_ip()`);
        await queryRunner.query(`CREATE TABLE "device_interfaces" ("id" SERIAL NOT NULL, "device_id" integer NOT NULL, "name" character varying(255) NOT NULL, "mac_address" character varying(17) NOT NULL, CONSTRAINT "PK_cbfc9647698d8585c6a00f234c1" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_46e9c18595db08075b6496d744" ON "device_interfaces"  ("device_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_6c1ec27e9750ab6af7b97cfea1" ON "device_interfaces"  ("mac_address") `);
        await queryRunner.query(`ALTER TABLE "device_interfaces" ADD CONSTRAINT "FK_46e9c18595db08075b6496d7440" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`INSERT INTO "device_interfaces" ("device_id", "name", "mac_address") SELECT "device_id", "name", "mac_address" FROM "interfaces" WHERE "device_id" IS NOT NULL AND "type" = 'physical' ORDER BY "id"`);
        await queryRunner.query(`DELETE FROM "interfaces" WHERE "device_id" IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "FK_85264777155032c7ae29dcbfa40"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "FK_6019f37be1ba583941b47459928"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "CHK_interfaces_one_node"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_85264777155032c7ae29dcbfa4"`);
        await queryRunner.query(`ALTER TABLE "interfaces" ALTER COLUMN "machine_id" SET NOT NULL`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "FK_6019f37be1ba583941b47459928" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP COLUMN "device_id"`);
    }
}
