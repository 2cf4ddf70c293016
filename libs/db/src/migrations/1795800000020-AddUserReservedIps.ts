import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Addresses users reserve through ipaddresses/ (MAAS's USER_RESERVED static addresses): who owns
 * the reservation and the host name it was reserved for. Only adds columns.
 */
export class AddUserReservedIps1795800000020 implements MigrationInterface {
    name = 'AddUserReservedIps1795800000020'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" ADD "owner_id" integer`);
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" ADD "hostname" character varying(255) NOT NULL DEFAULT ''`);
        await queryRunner.query(`CREATE INDEX "IDX_static_ip_addresses_owner" ON "static_ip_addresses" ("owner_id")`);
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" ADD CONSTRAINT "FK_static_ip_addresses_owner" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" DROP CONSTRAINT "FK_static_ip_addresses_owner"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_static_ip_addresses_owner"`);
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" DROP COLUMN "hostname"`);
        await queryRunner.query(`ALTER TABLE "static_ip_addresses" DROP COLUMN "owner_id"`);
    }

}
