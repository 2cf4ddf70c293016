import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A machine's storage as MAAS models it: partition tables on block devices, partitions, filesystems
 * (on a block device or a partition), filesystem groups (LVM volume groups, RAID arrays, bcache
 * devices) with their members, virtual block devices (logical volumes, md and bcache devices, rows
 * of block_devices with type 'virtual' and their group; the storage service deletes them with their
 * group) and bcache cache sets. Every table carries
 * machine_id so the machine's render revision follows every change.
 */
export class AddStorageModel1795700000002 implements MigrationInterface {
  name = 'AddStorageModel1795700000002';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "bcache_cache_sets" (
      "id" SERIAL PRIMARY KEY,
      "machine_id" integer NOT NULL REFERENCES "machines"("id") ON DELETE CASCADE,
      "name" character varying(255) NOT NULL,
      UNIQUE ("machine_id", "name"))`);
    await q.query(`CREATE TABLE "filesystem_groups" (
      "id" SERIAL PRIMARY KEY,
      "machine_id" integer NOT NULL REFERENCES "machines"("id") ON DELETE CASCADE,
      "name" character varying(255) NOT NULL,
      "uuid" character varying(36) NOT NULL,
      "group_type" character varying(20) NOT NULL,
      "cache_mode" character varying(20),
      "cache_set_id" integer REFERENCES "bcache_cache_sets"("id") ON DELETE RESTRICT,
      UNIQUE ("machine_id", "name"))`);
    await q.query(`ALTER TABLE "block_devices" ADD "filesystem_group_id" integer`);
    await q.query(`CREATE TABLE "partition_tables" (
      "id" SERIAL PRIMARY KEY,
      "machine_id" integer NOT NULL REFERENCES "machines"("id") ON DELETE CASCADE,
      "block_device_id" integer NOT NULL UNIQUE REFERENCES "block_devices"("id") ON DELETE CASCADE,
      "table_type" character varying(20) NOT NULL DEFAULT 'GPT')`);
    await q.query(`CREATE TABLE "partitions" (
      "id" SERIAL PRIMARY KEY,
      "machine_id" integer NOT NULL REFERENCES "machines"("id") ON DELETE CASCADE,
      "partition_table_id" integer NOT NULL REFERENCES "partition_tables"("id") ON DELETE CASCADE,
      "index" integer NOT NULL,
      "uuid" character varying(36) NOT NULL,
      "size" bigint NOT NULL,
      "bootable" boolean NOT NULL DEFAULT false,
      "tags" text array NOT NULL DEFAULT '{}',
      UNIQUE ("partition_table_id", "index"))`);
    await q.query(`CREATE TABLE "filesystems" (
      "id" SERIAL PRIMARY KEY,
      "machine_id" integer NOT NULL REFERENCES "machines"("id") ON DELETE CASCADE,
      "block_device_id" integer UNIQUE REFERENCES "block_devices"("id") ON DELETE CASCADE,
      "partition_id" integer UNIQUE REFERENCES "partitions"("id") ON DELETE CASCADE,
      "fstype" character varying(20) NOT NULL,
      "uuid" character varying(36) NOT NULL,
      "label" character varying(255),
      "mount_point" character varying(255),
      "mount_options" character varying(255),
      "filesystem_group_id" integer REFERENCES "filesystem_groups"("id") ON DELETE SET NULL,
      "cache_set_id" integer REFERENCES "bcache_cache_sets"("id") ON DELETE SET NULL,
      CONSTRAINT "filesystems_one_owner" CHECK (("block_device_id" IS NULL) <> ("partition_id" IS NULL)))`);
    await q.query(`CREATE UNIQUE INDEX "filesystems_mount_point" ON "filesystems" ("machine_id", "mount_point") WHERE "mount_point" IS NOT NULL AND "mount_point" <> 'none'`);
    for (const table of ['bcache_cache_sets', 'filesystem_groups', 'partition_tables', 'partitions', 'filesystems']) {
      await q.query(`CREATE TRIGGER ${table}_render_rev AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION kiln_child_render_rev()`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "filesystems"`);
    await q.query(`DROP TABLE "partitions"`);
    await q.query(`DROP TABLE "partition_tables"`);
    await q.query(`ALTER TABLE "block_devices" DROP COLUMN "filesystem_group_id"`);
    await q.query(`DROP TABLE "filesystem_groups"`);
    await q.query(`DROP TABLE "bcache_cache_sets"`);
  }
}
