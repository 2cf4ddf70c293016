import { MigrationInterface, QueryRunner } from 'typeorm';

/** The default zone, resource pool and domain every region starts with (as MAAS has). */
export class SeedDefaults1795616000000 implements MigrationInterface {
  name = 'SeedDefaults1795616000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`INSERT INTO "zones" ("name", "description") VALUES ('default', 'Default zone') ON CONFLICT DO NOTHING`);
    await q.query(
      `INSERT INTO "resource_pools" ("name", "description") VALUES ('default', 'Default pool') ON CONFLICT DO NOTHING`,
    );
    await q.query(
      `INSERT INTO "domains" ("name", "authoritative", "is_default") VALUES ('maas', true, true) ON CONFLICT DO NOTHING`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "domains" WHERE "name" = 'maas'`);
    await q.query(`DELETE FROM "resource_pools" WHERE "name" = 'default'`);
    await q.query(`DELETE FROM "zones" WHERE "name" = 'default'`);
  }
}
