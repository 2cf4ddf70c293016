import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scripts and their revisions, script runs (sets) and results, NUMA nodes, the machine's current
 * runs and hardware_info, and the per-boot OAuth tokens machines use with the metadata API.
 */
export class AddScripts1795680000000 implements MigrationInterface {
  name = 'AddScripts1795680000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "node_tokens" ("id" SERIAL NOT NULL, "machine_id" integer NOT NULL, "consumer_key" character varying(32) NOT NULL, "token_key" character varying(32) NOT NULL, "token_secret" character varying(64) NOT NULL, "purpose" character varying(32) NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a6c1dd39d955ba67a8ecacd2fde" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_cd6250f029494bfde9e50c9205" ON "node_tokens"  ("machine_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_cad615666702106ece6dfb7285" ON "node_tokens"  ("consumer_key") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_13378664f0487776fc4bb88390" ON "node_tokens"  ("token_key") `);
    await queryRunner.query(`CREATE TABLE "numa_nodes" ("id" SERIAL NOT NULL, "machine_id" integer NOT NULL, "index" integer NOT NULL, "cores" integer array NOT NULL DEFAULT '{}', "memory" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_7034b1780a1531f69e0431d5092" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_e43f0fbc5cffe5e546f04fd1a2" ON "numa_nodes"  ("machine_id", "index") `);
    await queryRunner.query(`CREATE TABLE "scripts" ("id" SERIAL NOT NULL, "name" character varying(255) NOT NULL, "title" character varying(255) NOT NULL DEFAULT '', "description" text NOT NULL DEFAULT '', "tags" text array NOT NULL DEFAULT '{}', "script_type" smallint NOT NULL DEFAULT '2', "hardware_type" smallint NOT NULL DEFAULT '0', "parallel" smallint NOT NULL DEFAULT '0', "timeout_seconds" integer NOT NULL DEFAULT '0', "destructive" boolean NOT NULL DEFAULT false, "may_reboot" boolean NOT NULL DEFAULT false, "recommission" boolean NOT NULL DEFAULT false, "apply_configured_networking" boolean NOT NULL DEFAULT false, "for_hardware" text array NOT NULL DEFAULT '{}', "packages" jsonb NOT NULL DEFAULT '{}', "parameters" jsonb NOT NULL DEFAULT '{}', "results" jsonb NOT NULL DEFAULT '{}', "is_default" boolean NOT NULL DEFAULT false, "current_version_id" integer, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_399d1c469ffd6bac4e061e5fd8c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_bb647a87604b3a3d108219194c" ON "scripts"  ("name") `);
    await queryRunner.query(`CREATE TABLE "script_sets" ("id" SERIAL NOT NULL, "machine_id" integer NOT NULL, "result_type" smallint NOT NULL, "last_ping" TIMESTAMP WITH TIME ZONE, "requested_scripts" text array NOT NULL DEFAULT '{}', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_188bc9b668687e331cf5b4f70ad" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_3e1312bf012a4c35fb3aa448d4" ON "script_sets"  ("machine_id") `);
    await queryRunner.query(`CREATE TABLE "script_versions" ("id" SERIAL NOT NULL, "script_id" integer NOT NULL, "data" bytea NOT NULL, "sha256" character varying(64) NOT NULL, "comment" text NOT NULL DEFAULT '', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_05494fb2a8bc305d461b06dcb63" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_f67671ed8c33f52ab201c2980b" ON "script_versions"  ("script_id") `);
    await queryRunner.query(`CREATE TABLE "script_results" ("id" SERIAL NOT NULL, "script_set_id" integer NOT NULL, "script_id" integer, "script_version_id" integer, "script_name" character varying(255) NOT NULL, "status" smallint NOT NULL DEFAULT '0', "exit_status" integer, "started" TIMESTAMP WITH TIME ZONE, "ended" TIMESTAMP WITH TIME ZONE, "runtime" double precision, "parameters" jsonb NOT NULL DEFAULT '{}', "output" bytea, "stdout" bytea, "stderr" bytea, "result" bytea, "suppressed" boolean NOT NULL DEFAULT false, "block_device_id" integer, "interface_id" integer, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0c482660fdacbb0a40e5955e166" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_dcaeb568fe5819dfe448898e1e" ON "script_results"  ("script_set_id") `);
    await queryRunner.query(`ALTER TABLE "machines" ADD "current_commissioning_script_set_id" integer`);
    await queryRunner.query(`ALTER TABLE "machines" ADD "current_testing_script_set_id" integer`);
    await queryRunner.query(`ALTER TABLE "machines" ADD "current_installation_script_set_id" integer`);
    await queryRunner.query(`ALTER TABLE "machines" ADD "hardware_info" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "node_tokens" ADD CONSTRAINT "FK_cd6250f029494bfde9e50c92052" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "numa_nodes" ADD CONSTRAINT "FK_28d94726b6203a46b8ff471c13b" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "scripts" ADD CONSTRAINT "FK_651d628aeed61feeff6467db51a" FOREIGN KEY ("current_version_id") REFERENCES "script_versions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_sets" ADD CONSTRAINT "FK_3e1312bf012a4c35fb3aa448d4a" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_versions" ADD CONSTRAINT "FK_f67671ed8c33f52ab201c2980be" FOREIGN KEY ("script_id") REFERENCES "scripts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_results" ADD CONSTRAINT "FK_dcaeb568fe5819dfe448898e1e1" FOREIGN KEY ("script_set_id") REFERENCES "script_sets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_results" ADD CONSTRAINT "FK_1e65894011a2ee31054c0c3ada6" FOREIGN KEY ("script_id") REFERENCES "scripts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_results" ADD CONSTRAINT "FK_a4f89920e93664f992ea731758a" FOREIGN KEY ("script_version_id") REFERENCES "script_versions"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_results" ADD CONSTRAINT "FK_797ae2be59493fcefe183c7f9b8" FOREIGN KEY ("block_device_id") REFERENCES "block_devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "script_results" ADD CONSTRAINT "FK_ceb5fe5a323f03590a07947953a" FOREIGN KEY ("interface_id") REFERENCES "interfaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "script_results" DROP CONSTRAINT "FK_ceb5fe5a323f03590a07947953a"`);
    await queryRunner.query(`ALTER TABLE "script_results" DROP CONSTRAINT "FK_797ae2be59493fcefe183c7f9b8"`);
    await queryRunner.query(`ALTER TABLE "script_results" DROP CONSTRAINT "FK_a4f89920e93664f992ea731758a"`);
    await queryRunner.query(`ALTER TABLE "script_results" DROP CONSTRAINT "FK_1e65894011a2ee31054c0c3ada6"`);
    await queryRunner.query(`ALTER TABLE "script_results" DROP CONSTRAINT "FK_dcaeb568fe5819dfe448898e1e1"`);
    await queryRunner.query(`ALTER TABLE "script_versions" DROP CONSTRAINT "FK_f67671ed8c33f52ab201c2980be"`);
    await queryRunner.query(`ALTER TABLE "script_sets" DROP CONSTRAINT "FK_3e1312bf012a4c35fb3aa448d4a"`);
    await queryRunner.query(`ALTER TABLE "scripts" DROP CONSTRAINT "FK_651d628aeed61feeff6467db51a"`);
    await queryRunner.query(`ALTER TABLE "numa_nodes" DROP CONSTRAINT "FK_28d94726b6203a46b8ff471c13b"`);
    await queryRunner.query(`ALTER TABLE "node_tokens" DROP CONSTRAINT "FK_cd6250f029494bfde9e50c92052"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "hardware_info"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "current_installation_script_set_id"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "current_testing_script_set_id"`);
    await queryRunner.query(`ALTER TABLE "machines" DROP COLUMN "current_commissioning_script_set_id"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_dcaeb568fe5819dfe448898e1e"`);
    await queryRunner.query(`DROP TABLE "script_results"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_f67671ed8c33f52ab201c2980b"`);
    await queryRunner.query(`DROP TABLE "script_versions"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_3e1312bf012a4c35fb3aa448d4"`);
    await queryRunner.query(`DROP TABLE "script_sets"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_bb647a87604b3a3d108219194c"`);
    await queryRunner.query(`DROP TABLE "scripts"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_e43f0fbc5cffe5e546f04fd1a2"`);
    await queryRunner.query(`DROP TABLE "numa_nodes"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_13378664f0487776fc4bb88390"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_cad615666702106ece6dfb7285"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_cd6250f029494bfde9e50c9205"`);
    await queryRunner.query(`DROP TABLE "node_tokens"`);
  }
}
