import { MigrationInterface, QueryRunner } from 'typeorm';

/** The X25519 public key each rack registers; the region seals BMC credentials to it. */
export class AddRackBoxKey1795660000000 implements MigrationInterface {
  name = 'AddRackBoxKey1795660000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rack_controllers" ADD "box_public_key" character varying(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rack_controllers" DROP COLUMN "box_public_key"`);
  }
}
