import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MAAS's boot sources (simplestreams mirrors with their keyrings) and their selections (which
 * os/release/arches to take from each). Kiln stores and serves them for MAAS clients; it does not
 * sync from them (its images come from `kiln boot-resource-import`). Deleting a source deletes its
 * selections; (os, release) is unique per source.
 */
export class AddBootSources1795800000070 implements MigrationInterface {
  name = 'AddBootSources1795800000070';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "boot_sources" ("id" SERIAL NOT NULL, "url" character varying(200) NOT NULL, "keyring_filename" character varying(4096) NOT NULL DEFAULT '', "keyring_data" bytea NOT NULL DEFAULT '\\x', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_boot_sources" PRIMARY KEY ("id"), CONSTRAINT "UQ_boot_sources_url" UNIQUE ("url"))`);
    await q.query(`CREATE TABLE "boot_source_selections" ("id" SERIAL NOT NULL, "boot_source_id" integer NOT NULL, "os" character varying(20) NOT NULL DEFAULT '', "release" character varying(20) NOT NULL DEFAULT '', "arches" text[] NOT NULL DEFAULT '{*}', "subarches" text[] NOT NULL DEFAULT '{*}', "labels" text[] NOT NULL DEFAULT '{*}', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_boot_source_selections" PRIMARY KEY ("id"), CONSTRAINT "UQ_boot_source_selections_os_release" UNIQUE ("boot_source_id", "os", "release"), CONSTRAINT "FK_boot_source_selections_source" FOREIGN KEY ("boot_source_id") REFERENCES "boot_sources"("id") ON DELETE CASCADE)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "boot_source_selections"`);
    await q.query(`DROP TABLE "boot_sources"`);
  }
}
