import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Boot resources as MAAS has them (resources, their sets and files), and the bytes of the files,
 * content-addressed (one row per sha256) and kept in Postgres as chunks of a few MiB, so that
 * every region sees the same images.
 */
export class AddBootResources1795690000003 implements MigrationInterface {
  name = 'AddBootResources1795690000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "boot_resources" ("id" SERIAL NOT NULL, "rtype" smallint NOT NULL, "name" character varying(255) NOT NULL, "architecture" character varying(255) NOT NULL, "extra" jsonb NOT NULL DEFAULT '{}', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1f31b72dde3b73dd9c275fef3c6" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_ddc7f1b9969260f6b1b60a4cec" ON "boot_resources"  ("name", "architecture") `);
    await queryRunner.query(`CREATE TABLE "boot_resource_sets" ("id" SERIAL NOT NULL, "resource_id" integer NOT NULL, "version" character varying(255) NOT NULL, "label" character varying(255) NOT NULL DEFAULT 'uploaded', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b23c749379b1c93d67710ffe1da" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_d3686f2922a0222fb2b2e3dc5c" ON "boot_resource_sets"  ("resource_id", "version") `);
    await queryRunner.query(`CREATE TABLE "boot_resource_contents" ("id" SERIAL NOT NULL, "sha256" character varying(64), "size" bigint NOT NULL, "stored" bigint NOT NULL DEFAULT '0', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1c334ee1a36ce2fbd29b0e462d6" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_c9ed3b2d9e90d209b760b33290" ON "boot_resource_contents"  ("sha256") `);
    await queryRunner.query(`CREATE TABLE "boot_resource_chunks" ("content_id" integer NOT NULL, "start" bigint NOT NULL, "data" bytea NOT NULL, CONSTRAINT "PK_6b2dd36a5705730c2a53d56f81a" PRIMARY KEY ("content_id", "start"))`);
    await queryRunner.query(`CREATE TABLE "boot_resource_files" ("id" SERIAL NOT NULL, "set_id" integer NOT NULL, "filename" character varying(255) NOT NULL, "filetype" character varying(64) NOT NULL, "sha256" character varying(64) NOT NULL, "size" bigint NOT NULL, "content_id" integer, CONSTRAINT "PK_1b6cb4e0ca38102a8f7889b564d" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_56c707b5c12a6c7aba73456194" ON "boot_resource_files"  ("content_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_3806d089902738c424e92a83f2" ON "boot_resource_files"  ("set_id", "filename") `);
    await queryRunner.query(`ALTER TABLE "boot_resource_sets" ADD CONSTRAINT "FK_8037ea16db92b4809447c68d563" FOREIGN KEY ("resource_id") REFERENCES "boot_resources"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "boot_resource_chunks" ADD CONSTRAINT "FK_696dcfae162393583dc15655cd2" FOREIGN KEY ("content_id") REFERENCES "boot_resource_contents"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "boot_resource_files" ADD CONSTRAINT "FK_00b9e515f602ec70787299bc99c" FOREIGN KEY ("set_id") REFERENCES "boot_resource_sets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "boot_resource_files" ADD CONSTRAINT "FK_56c707b5c12a6c7aba734561948" FOREIGN KEY ("content_id") REFERENCES "boot_resource_contents"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "boot_resource_files" DROP CONSTRAINT "FK_56c707b5c12a6c7aba734561948"`);
    await queryRunner.query(`ALTER TABLE "boot_resource_files" DROP CONSTRAINT "FK_00b9e515f602ec70787299bc99c"`);
    await queryRunner.query(`ALTER TABLE "boot_resource_chunks" DROP CONSTRAINT "FK_696dcfae162393583dc15655cd2"`);
    await queryRunner.query(`ALTER TABLE "boot_resource_sets" DROP CONSTRAINT "FK_8037ea16db92b4809447c68d563"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_3806d089902738c424e92a83f2"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_56c707b5c12a6c7aba73456194"`);
    await queryRunner.query(`DROP TABLE "boot_resource_files"`);
    await queryRunner.query(`DROP TABLE "boot_resource_chunks"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_c9ed3b2d9e90d209b760b33290"`);
    await queryRunner.query(`DROP TABLE "boot_resource_contents"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_d3686f2922a0222fb2b2e3dc5c"`);
    await queryRunner.query(`DROP TABLE "boot_resource_sets"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_ddc7f1b9969260f6b1b60a4cec"`);
    await queryRunner.query(`DROP TABLE "boot_resources"`);
  }
}
