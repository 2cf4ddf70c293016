import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage configuration a machine keeps between set_storage_layout / mount_special and its
 * deployment: the chosen layout with its options (null: the default layout) and its special
 * (tmpfs/ramfs) filesystems. Kiln does not model partitions; deployment renders these.
 */
export class AddMachineStorageConfig1795640000000 implements MigrationInterface {
  name = 'AddMachineStorageConfig1795640000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "machines" ADD "storage_layout" jsonb`);
    await q.query(`ALTER TABLE "machines" ADD "special_filesystems" jsonb NOT NULL DEFAULT '[]'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "machines" DROP COLUMN "special_filesystems"`);
    await q.query(`ALTER TABLE "machines" DROP COLUMN "storage_layout"`);
  }
}
