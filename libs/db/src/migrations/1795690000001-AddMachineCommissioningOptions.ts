import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The options of a machine's latest commission/test request that outlive the request: SSH left
 * enabled (no power-off at the end of the run), and whether commissioning may reconfigure the
 * machine's networking and storage (MAAS keeps the same three flags on the node).
 */
export class AddMachineCommissioningOptions1795690000001 implements MigrationInterface {
  name = 'AddMachineCommissioningOptions1795690000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "machines" ADD "enable_ssh" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "machines" ADD "skip_networking" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "machines" ADD "skip_storage" boolean NOT NULL DEFAULT false`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "skip_storage"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "skip_networking"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "enable_ssh"`);
  }
}
