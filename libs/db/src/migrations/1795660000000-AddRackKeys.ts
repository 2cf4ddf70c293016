import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rack identities: the X25519 public key the region seals secrets to, the NATS nkey the server
 * lets in with the rack's permissions, and the one-time tokens racks enroll with (stored hashed).
 */
export class AddRackKeys1795660000000 implements MigrationInterface {
  name = 'AddRackKeys1795660000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "rack_controllers" ADD "box_public_key" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "rack_controllers" ADD "nats_nkey" character varying(56)`);
    await queryRunner.query(
      `CREATE TABLE "rack_enrollment_tokens" ("token_hash" character varying(64) NOT NULL, "expires" TIMESTAMP WITH TIME ZONE NOT NULL, "used_by" character varying(41), "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_rack_enrollment_tokens" PRIMARY KEY ("token_hash"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rack_enrollment_tokens"`);
    await queryRunner.query(`ALTER TABLE "rack_controllers" DROP COLUMN "nats_nkey"`);
    await queryRunner.query(`ALTER TABLE "rack_controllers" DROP COLUMN "box_public_key"`);
  }
}
