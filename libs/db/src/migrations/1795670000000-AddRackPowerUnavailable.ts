import { MigrationInterface, QueryRunner } from 'typeorm';

/** Power types a rack reported it cannot drive, with the reason (see RackControllerEntity.powerUnavailable). */
export class AddRackPowerUnavailable1795670000000 implements MigrationInterface {
  name = 'AddRackPowerUnavailable1795670000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rack_controllers" ADD "power_unavailable" jsonb NOT NULL DEFAULT '{}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rack_controllers" DROP COLUMN "power_unavailable"`);
  }
}
