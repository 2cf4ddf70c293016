import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * machines.render_rev changes whenever anything shown in a machine's API document changes: the
 * machine row, its interfaces, block devices, tags, or its BMC's power type. The region keys its
 * cache of rendered machine JSON on it, so listing thousands of machines does not re-render the
 * ones that did not change. Triggers keep it right whatever code path writes.
 */
export class AddMachineRenderRevision1795620000000 implements MigrationInterface {
  name = 'AddMachineRenderRevision1795620000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE "machine_render_rev_seq"`);
    await q.query(`ALTER TABLE "machines" ADD "render_rev" bigint NOT NULL DEFAULT nextval('machine_render_rev_seq')`);
    await q.query(`
      CREATE FUNCTION kiln_machine_render_rev() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.render_rev := nextval('machine_render_rev_seq');
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER machines_render_rev BEFORE UPDATE ON "machines" FOR EACH ROW EXECUTE FUNCTION kiln_machine_render_rev()`);
    await q.query(`
      CREATE FUNCTION kiln_child_render_rev() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          UPDATE machines SET render_rev = nextval('machine_render_rev_seq') WHERE id = OLD.machine_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
          UPDATE machines SET render_rev = nextval('machine_render_rev_seq') WHERE id = NEW.machine_id;
        END IF;
        RETURN NULL;
      END $$`);
    for (const table of ['interfaces', 'block_devices', 'machine_tags']) {
      await q.query(
        `CREATE TRIGGER ${table}_render_rev AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION kiln_child_render_rev()`,
      );
    }
    await q.query(`
      CREATE FUNCTION kiln_bmc_render_rev() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE machines SET render_rev = nextval('machine_render_rev_seq') WHERE bmc_id = NEW.id;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER bmcs_render_rev AFTER UPDATE OF power_type ON "bmcs" FOR EACH ROW EXECUTE FUNCTION kiln_bmc_render_rev()`,
    );
    await q.query(`
      CREATE FUNCTION kiln_tag_render_rev() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE machines SET render_rev = nextval('machine_render_rev_seq')
         WHERE id IN (SELECT machine_id FROM machine_tags WHERE tag_id = NEW.id);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER tags_render_rev AFTER UPDATE OF name ON "tags" FOR EACH ROW EXECUTE FUNCTION kiln_tag_render_rev()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER tags_render_rev ON "tags"`);
    await q.query(`DROP TRIGGER bmcs_render_rev ON "bmcs"`);
    for (const table of ['interfaces', 'block_devices', 'machine_tags']) await q.query(`DROP TRIGGER ${table}_render_rev ON "${table}"`);
    await q.query(`DROP TRIGGER machines_render_rev ON "machines"`);
    await q.query(`DROP FUNCTION kiln_tag_render_rev()`);
    await q.query(`DROP FUNCTION kiln_bmc_render_rev()`);
    await q.query(`DROP FUNCTION kiln_child_render_rev()`);
    await q.query(`DROP FUNCTION kiln_machine_render_rev()`);
    await q.query(`ALTER TABLE "machines" DROP COLUMN "render_rev"`);
    await q.query(`DROP SEQUENCE "machine_render_rev_seq"`);
  }
}
