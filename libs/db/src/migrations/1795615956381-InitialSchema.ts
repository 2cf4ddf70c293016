import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1795615956381 implements MigrationInterface {
    name = 'InitialSchema1795615956381'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "users" ("id" SERIAL NOT NULL, "username" character varying(150) NOT NULL, "email" character varying(254) NOT NULL DEFAULT '', "password_hash" character varying(256) NOT NULL DEFAULT '', "is_admin" boolean NOT NULL DEFAULT false, "is_active" boolean NOT NULL DEFAULT true, "is_system" boolean NOT NULL DEFAULT false, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "api_tokens" ("id" SERIAL NOT NULL, "user_id" integer NOT NULL, "name" character varying(255) NOT NULL DEFAULT '', "consumer_key" character varying(32) NOT NULL, "token_key" character varying(32) NOT NULL, "token_secret" character varying(64) NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_3680fe81efd35941a9b2859cc4" ON "api_tokens"  ("consumer_key") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_15e572c3556043404dbfa57e66" ON "api_tokens"  ("token_key") `);
        await queryRunner.query(`CREATE TABLE "bmcs" ("id" SERIAL NOT NULL, "power_type" character varying(32) NOT NULL DEFAULT '', "power_address" character varying(2048) NOT NULL DEFAULT '', "power_parameters" jsonb NOT NULL DEFAULT '{}'::jsonb, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3649e297f5dadad989f39cba6d5" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_fe8fc356e03ebfa103f68a6194" ON "bmcs"  ("power_type", "power_address") `);
        await queryRunner.query(`CREATE TABLE "resource_pools" ("id" SERIAL NOT NULL, "name" character varying(256) NOT NULL, "description" text NOT NULL DEFAULT '', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_90d97e2e6c9d03a350cc2ba8722" UNIQUE ("name"), CONSTRAINT "PK_c1802b95e3876adc925bf9938fa" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "zones" ("id" SERIAL NOT NULL, "name" character varying(256) NOT NULL, "description" text NOT NULL DEFAULT '', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_4f5b05ffd4b4daee685dea35ed4" UNIQUE ("name"), CONSTRAINT "PK_880484a43ca311707b05895bd4a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "domains" ("id" SERIAL NOT NULL, "name" character varying(256) NOT NULL, "authoritative" boolean NOT NULL DEFAULT true, "ttl" integer, "is_default" boolean NOT NULL DEFAULT false, CONSTRAINT "UQ_f36af68a2defaa8ae5fdd9b5640" UNIQUE ("name"), CONSTRAINT "PK_05a6b087662191c2ea7f7ddfc4d" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "machines" ("id" SERIAL NOT NULL, "system_id" character varying(41) NOT NULL, "hostname" character varying(255) NOT NULL, "description" text NOT NULL DEFAULT '', "domain_id" integer NOT NULL, "architecture" character varying(64) NOT NULL DEFAULT '', "min_hwe_kernel" character varying(64) NOT NULL DEFAULT '', "hwe_kernel" character varying(64), "osystem" character varying(64) NOT NULL DEFAULT '', "distro_series" character varying(64) NOT NULL DEFAULT '', "cpu_count" integer NOT NULL DEFAULT '0', "cpu_speed" integer NOT NULL DEFAULT '0', "memory" integer NOT NULL DEFAULT '0', "swap_size" bigint, "status" smallint NOT NULL DEFAULT '0', "previous_status" smallint, "status_expires" TIMESTAMP WITH TIME ZONE, "owner_id" integer, "locked" boolean NOT NULL DEFAULT false, "zone_id" integer NOT NULL, "pool_id" integer, "power_state" character varying(16) NOT NULL DEFAULT 'unknown', "power_state_updated" TIMESTAMP WITH TIME ZONE, "bmc_id" integer, "instance_power_parameters" jsonb NOT NULL DEFAULT '{}'::jsonb, "agent_name" character varying(255) NOT NULL DEFAULT '', "owner_data" jsonb NOT NULL DEFAULT '{}'::jsonb, "error_description" text NOT NULL DEFAULT '', "netboot" boolean NOT NULL DEFAULT true, "enlisting" boolean NOT NULL DEFAULT false, "ephemeral_deploy" boolean NOT NULL DEFAULT false, "hardware_uuid" character varying(36), "bios_boot_method" character varying(31), "user_data" bytea, "status_message" text, "status_action" text, "version" integer NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7b0817c674bb984650c5274e713" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_9d6640367b734f40ca160caae7" ON "machines"  ("system_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_aa1873da806b0db3c697df46a1" ON "machines"  ("hostname") `);
        await queryRunner.query(`CREATE INDEX "IDX_534b3187cce608d7e40373dae8" ON "machines"  ("status") `);
        await queryRunner.query(`CREATE INDEX "IDX_c09ef25046cc865bacda2a36ac" ON "machines"  ("status_expires") `);
        await queryRunner.query(`CREATE INDEX "IDX_ae5fc7c913a1a9d741f6651fe0" ON "machines"  ("owner_id") `);
        await queryRunner.query(`CREATE TABLE "block_devices" ("id" SERIAL NOT NULL, "machine_id" integer NOT NULL, "name" character varying(255) NOT NULL, "type" character varying(20) NOT NULL DEFAULT 'physical', "uuid" character varying(36), "model" character varying(255) NOT NULL DEFAULT '', "serial" character varying(255) NOT NULL DEFAULT '', "id_path" character varying(4096), "size" bigint NOT NULL, "block_size" integer NOT NULL DEFAULT '512', "tags" text array NOT NULL DEFAULT '{}', "firmware_version" character varying(255), "is_boot" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_3ba191bd29380d7e75d0a8166f6" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_4b73270330976529615410db84" ON "block_devices"  ("machine_id", "name") `);
        await queryRunner.query(`CREATE TABLE "events" ("id" BIGSERIAL NOT NULL, "machine_id" integer, "system_id" character varying(41) NOT NULL DEFAULT '', "hostname" character varying(255) NOT NULL DEFAULT '', "level" smallint NOT NULL DEFAULT '20', "type" character varying(255) NOT NULL, "description" text NOT NULL DEFAULT '', "action" text NOT NULL DEFAULT '', "username" character varying(150) NOT NULL DEFAULT '', "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_40fea422366ffae742c7779031" ON "events"  ("system_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_5da22e114070092d43f002ef39" ON "events"  ("machine_id", "id") `);
        await queryRunner.query(`CREATE TABLE "interfaces" ("id" SERIAL NOT NULL, "machine_id" integer NOT NULL, "name" character varying(255) NOT NULL, "type" character varying(20) NOT NULL DEFAULT 'physical', "mac_address" character varying(17) NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "vendor" character varying(255), "product" character varying(255), "link_speed" integer NOT NULL DEFAULT '0', "interface_speed" integer NOT NULL DEFAULT '0', "link_connected" boolean NOT NULL DEFAULT true, "mtu" integer NOT NULL DEFAULT '1500', "tags" text array NOT NULL DEFAULT '{}', "ip_address" inet, "is_boot" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_811ec6e568e3c1a89ac5e744731" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_545dbb6b2e01c4fc4cbf8485a8" ON "interfaces"  ("mac_address") `);
        await queryRunner.query(`CREATE INDEX "IDX_6019f37be1ba583941b4745992" ON "interfaces"  ("machine_id") `);
        await queryRunner.query(`CREATE TABLE "tags" ("id" SERIAL NOT NULL, "name" character varying(256) NOT NULL, "definition" text NOT NULL DEFAULT '', "comment" text NOT NULL DEFAULT '', "kernel_opts" text NOT NULL DEFAULT '', CONSTRAINT "UQ_d90243459a697eadb8ad56e9092" UNIQUE ("name"), CONSTRAINT "PK_e7dc17249a1148a1970748eda99" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "machine_tags" ("machine_id" integer NOT NULL, "tag_id" integer NOT NULL, CONSTRAINT "PK_2ba5d6e0074ca0853242f2e5595" PRIMARY KEY ("machine_id", "tag_id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_245482f7125b3b925d6c4bb66e" ON "machine_tags"  ("tag_id") `);
        await queryRunner.query(`CREATE TABLE "rack_controllers" ("id" SERIAL NOT NULL, "system_id" character varying(41) NOT NULL, "hostname" character varying(255) NOT NULL, "version" character varying(64) NOT NULL DEFAULT '', "architecture" character varying(64) NOT NULL DEFAULT '', "interfaces" jsonb NOT NULL DEFAULT '[]'::jsonb, "last_seen" TIMESTAMP WITH TIME ZONE, "status" character varying(16) NOT NULL DEFAULT 'unknown', "zone_id" integer, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8f71cb2b38a5f59e82498fc3b23" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_63b040e25f421de53630f55a75" ON "rack_controllers"  ("system_id") `);
        await queryRunner.query(`CREATE TABLE "ssh_keys" ("id" SERIAL NOT NULL, "user_id" integer NOT NULL, "key" text NOT NULL, "keysource" character varying(64), "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_8d68194272e979ab2d77700b1a4" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "IDX_5d71d009f0a4b1367661f69b04" ON "ssh_keys"  ("user_id", "key") `);
        await queryRunner.query(`ALTER TABLE "api_tokens" ADD CONSTRAINT "FK_b74883f5884a42fd8496d389b25" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machines" ADD CONSTRAINT "FK_907c8a60d3c3868f4882309edb3" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machines" ADD CONSTRAINT "FK_ae5fc7c913a1a9d741f6651fe04" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machines" ADD CONSTRAINT "FK_95f0d8fcf7cb9018b046974a835" FOREIGN KEY ("zone_id") REFERENCES "zones"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machines" ADD CONSTRAINT "FK_c79b10a29c86e695ae2920275a1" FOREIGN KEY ("pool_id") REFERENCES "resource_pools"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machines" ADD CONSTRAINT "FK_22db6aa692cc838feb88378e550" FOREIGN KEY ("bmc_id") REFERENCES "bmcs"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "block_devices" ADD CONSTRAINT "FK_4f7525a6e6c1aab9f8438ff0f24" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "events" ADD CONSTRAINT "FK_eac2bbe09e1e2911e04b160e611" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "interfaces" ADD CONSTRAINT "FK_6019f37be1ba583941b47459928" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machine_tags" ADD CONSTRAINT "FK_3a6075dbf53aa25d415b2a8e2a1" FOREIGN KEY ("machine_id") REFERENCES "machines"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "machine_tags" ADD CONSTRAINT "FK_245482f7125b3b925d6c4bb66ed" FOREIGN KEY ("tag_id") REFERENCES "tags"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "rack_controllers" ADD CONSTRAINT "FK_9822dcedd8d64f9fe9c09125206" FOREIGN KEY ("zone_id") REFERENCES "zones"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "ssh_keys" ADD CONSTRAINT "FK_db5e50d55c54341ee29fd71fb01" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "ssh_keys" DROP CONSTRAINT "FK_db5e50d55c54341ee29fd71fb01"`);
        await queryRunner.query(`ALTER TABLE "rack_controllers" DROP CONSTRAINT "FK_9822dcedd8d64f9fe9c09125206"`);
        await queryRunner.query(`ALTER TABLE "machine_tags" DROP CONSTRAINT "FK_245482f7125b3b925d6c4bb66ed"`);
        await queryRunner.query(`ALTER TABLE "machine_tags" DROP CONSTRAINT "FK_3a6075dbf53aa25d415b2a8e2a1"`);
        await queryRunner.query(`ALTER TABLE "interfaces" DROP CONSTRAINT "FK_6019f37be1ba583941b47459928"`);
        await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "FK_eac2bbe09e1e2911e04b160e611"`);
        await queryRunner.query(`ALTER TABLE "block_devices" DROP CONSTRAINT "FK_4f7525a6e6c1aab9f8438ff0f24"`);
        await queryRunner.query(`ALTER TABLE "machines" DROP CONSTRAINT "FK_22db6aa692cc838feb88378e550"`);
        await queryRunner.query(`ALTER TABLE "machines" DROP CONSTRAINT "FK_c79b10a29c86e695ae2920275a1"`);
        await queryRunner.query(`ALTER TABLE "machines" DROP CONSTRAINT "FK_95f0d8fcf7cb9018b046974a835"`);
        await queryRunner.query(`ALTER TABLE "machines" DROP CONSTRAINT "FK_ae5fc7c913a1a9d741f6651fe04"`);
        await queryRunner.query(`ALTER TABLE "machines" DROP CONSTRAINT "FK_907c8a60d3c3868f4882309edb3"`);
        await queryRunner.query(`ALTER TABLE "api_tokens" DROP CONSTRAINT "FK_b74883f5884a42fd8496d389b25"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_5d71d009f0a4b1367661f69b04"`);
        await queryRunner.query(`DROP TABLE "ssh_keys"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_63b040e25f421de53630f55a75"`);
        await queryRunner.query(`DROP TABLE "rack_controllers"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_245482f7125b3b925d6c4bb66e"`);
        await queryRunner.query(`DROP TABLE "machine_tags"`);
        await queryRunner.query(`DROP TABLE "tags"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_6019f37be1ba583941b4745992"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_545dbb6b2e01c4fc4cbf8485a8"`);
        await queryRunner.query(`DROP TABLE "interfaces"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_5da22e114070092d43f002ef39"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_40fea422366ffae742c7779031"`);
        await queryRunner.query(`DROP TABLE "events"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_4b73270330976529615410db84"`);
        await queryRunner.query(`DROP TABLE "block_devices"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_ae5fc7c913a1a9d741f6651fe0"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_c09ef25046cc865bacda2a36ac"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_534b3187cce608d7e40373dae8"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_aa1873da806b0db3c697df46a1"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_9d6640367b734f40ca160caae7"`);
        await queryRunner.query(`DROP TABLE "machines"`);
        await queryRunner.query(`DROP TABLE "domains"`);
        await queryRunner.query(`DROP TABLE "zones"`);
        await queryRunner.query(`DROP TABLE "resource_pools"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_fe8fc356e03ebfa103f68a6194"`);
        await queryRunner.query(`DROP TABLE "bmcs"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_15e572c3556043404dbfa57e66"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_3680fe81efd35941a9b2859cc4"`);
        await queryRunner.query(`DROP TABLE "api_tokens"`);
        await queryRunner.query(`DROP TABLE "users"`);
    }

}
