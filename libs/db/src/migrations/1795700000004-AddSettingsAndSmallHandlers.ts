import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's configuration (`maas/` get_config/set_config) and the small per-user and global stores:
 * SSL keys, license keys, notifications, files, package repositories and DHCP snippets.
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

    await q.query(`CREATE TABLE "package_repositories" ("id" SERIAL NOT NULL, "name" character varying(41) NOT NULL, "url" character varying(200) NOT NULL, "distributions" text[] NOT NULL DEFAULT '{}', "disabled_pockets" text[] NOT NULL DEFAULT '{}', "disabled_components" text[] NOT NULL DEFAULT '{}', "disable_sources" boolean NOT NULL DEFAULT true, "components" text[] NOT NULL DEFAULT '{}', "arches" text[] NOT NULL DEFAULT '{}', "key" text NOT NULL DEFAULT '', "default" boolean NOT NULL DEFAULT false, "enabled" boolean NOT NULL DEFAULT true, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_package_repositories" PRIMARY KEY ("id"), CONSTRAINT "UQ_package_repositories_name" UNIQUE ("name"))`);
    // MAAS's two default archives, which can be changed or disabled but not deleted.
    await q.query(`INSERT INTO package_repositories (name, url, arches, "default") VALUES
      ('main_archive', 'http://archive.ubuntu.com/ubuntu', '{amd64,i386}', true),
      ('ports_archive', 'http://ports.ubuntu.com/ubuntu-ports', '{armhf,arm64,ppc64el,s390x}', true)`);

    await q.query(`CREATE TABLE "dhcp_snippets" ("id" SERIAL NOT NULL, "name" character varying(255) NOT NULL, "description" text NOT NULL DEFAULT '', "value" text NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "node_id" integer, "subnet_id" integer, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_dhcp_snippets" PRIMARY KEY ("id"), CONSTRAINT "CHK_dhcp_snippets_scope" CHECK (node_id IS NULL OR subnet_id IS NULL), CONSTRAINT "FK_dhcp_snippets_node" FOREIGN KEY ("node_id") REFERENCES "machines"("id") ON DELETE CASCADE, CONSTRAINT "FK_dhcp_snippets_subnet" FOREIGN KEY ("subnet_id") REFERENCES "subnets"("id") ON DELETE CASCADE)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "dhcp_snippets"`);
    await q.query(`DROP TABLE "package_repositories"`);
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
