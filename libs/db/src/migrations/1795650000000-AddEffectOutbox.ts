import { MigrationInterface, QueryRunner } from 'typeorm';

/** Lifecycle effects written with the transition that decided them (see EffectOutboxEntity). */
export class AddEffectOutbox1795650000000 implements MigrationInterface {
  name = 'AddEffectOutbox1795650000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "effect_outbox" ("job_id" character varying(128) NOT NULL, "system_id" character varying(41) NOT NULL, "payload" jsonb NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bff471ac4e07708a976f3484cea" PRIMARY KEY ("job_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_2bbd11c75f0674417d8c36aa77" ON "effect_outbox" ("created") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_2bbd11c75f0674417d8c36aa77"`);
    await queryRunner.query(`DROP TABLE "effect_outbox"`);
  }
}
