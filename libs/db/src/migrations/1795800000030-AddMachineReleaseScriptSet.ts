import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A machine's current release run (MAAS `current_release_script_set`): the wipe-disks run a
 * release with disk erasing starts, which the ephemeral environment fetches and reports on.
 */
export class AddMachineReleaseScriptSet1795800000030 implements MigrationInterface {
    name = 'AddMachineReleaseScriptSet1795800000030'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "machines" ADD "current_release_script_set_id" integer`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "current_release_script_set_id"`);
    }

}
