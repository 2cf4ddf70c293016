import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's configuration (`maas/` get_config/set_config) and the small per-user and global stores:
 * SSL keys, license keys, notifications and files.
 *
 * `config` holds only what was set (a missing name reads its MAAS default). Every change notifies
 * the channel `kiln_config` with the setting's name, so every region drops its cached copy, however
 * the row was written.
 */
export class AddSettingsAndSmallHandlers1795700000004 implements MigrationInterface {
  name = 'AddSettingsAndSmallHandlers1795700000004';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "config" ("name" character varying(255) NOT NULL, "value" jsonb, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_config" PRIMARY KEY ("name"))`);
    await q.query(`
      CREATE FUNCTION kiln_config_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('kiln_config', COALESCE(NEW.name, OLD.name));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER config_notify AFTER INSERT OR UPDATE OR DELETE ON "config" FOR EACH ROW EXECUTE FUNCTION kiln_config_notify()`);

    await q.query(`CREATE TABLE "ssl_keys" ("id" SERIAL NOT NULL, "user_id" integer NOT NULL, "key" text NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ssl_keys" PRIMARY KEY ("id"), CONSTRAINT "UQ_ssl_keys_user_key" UNIQUE ("user_id", "key"), CONSTRAINT "FK_ssl_keys_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`);

    await q.query(`CREATE TABLE "license_keys" ("id" SERIAL NOT NULL, "osystem" character varying(255) NOT NULL, "distro_series" character varying(255) NOT NULL, "license_key" character varying(255) NOT NULL, CONSTRAINT "PK_license_keys" PRIMARY KEY ("id"), CONSTRAINT "UQ_license_keys_os_series" UNIQUE ("osystem", "distro_series"))`);

    await q.query(`CREATE TABLE "notifications" ("id" SERIAL NOT NULL, "ident" character varying(40), "user_id" integer, "users" boolean NOT NULL DEFAULT false, "admins" boolean NOT NULL DEFAULT false, "message" text NOT NULL, "context" jsonb NOT NULL DEFAULT '{}', "category" character varying(10) NOT NULL DEFAULT 'info', "dismissable" boolean NOT NULL DEFAULT true, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_notifications" PRIMARY KEY ("id"), CONSTRAINT "FK_notifications_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE TABLE "notification_dismissals" ("notification_id" integer NOT NULL, "user_id" integer NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_notification_dismissals" PRIMARY KEY ("notification_id", "user_id"), CONSTRAINT "FK_notification_dismissals_notification" FOREIGN KEY ("notification_id") REFERENCES "notifications"("id") ON DELETE CASCADE, CONSTRAINT "FK_notification_dismissals_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`);

    await q.query(`CREATE TABLE "files" ("id" SERIAL NOT NULL, "filename" character varying(255) NOT NULL, "owner_id" integer, "key" character varying(36) NOT NULL, "content" bytea NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_files" PRIMARY KEY ("id"), CONSTRAINT "UQ_files_key" UNIQUE ("key"), CONSTRAINT "FK_files_owner" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE)`);
    await q.query(`CREATE UNIQUE INDEX "UQ_files_owner_filename" ON "files" (COALESCE("owner_id", 0), "filename")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "files"`);
    await q.query(`DROP TABLE "notification_dismissals"`);
    await q.query(`DROP TABLE "notifications"`);
    await q.query(`DROP TABLE "license_keys"`);
    await q.query(`DROP TABLE "ssl_keys"`);
    await q.query(`DROP TRIGGER config_notify ON "config"`);
    await q.query(`DROP FUNCTION kiln_config_notify()`);
    await q.query(`DROP TABLE "config"`);
  }
}
