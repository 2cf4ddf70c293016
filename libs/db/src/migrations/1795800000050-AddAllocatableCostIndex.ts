import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * op=allocate takes the cheapest free Ready machine that meets the constraints
 * (ORDER BY cpu_count + memory / 1024.0, id LIMIT 1). This partial index holds exactly the free
 * Ready machines in that order, so Postgres walks them cheapest first and stops at the first one
 * that matches, instead of filtering and sorting the whole fleet for every allocation.
 */
export class AddAllocatableCostIndex1795800000050 implements MigrationInterface {
    name = 'AddAllocatableCostIndex1795800000050'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "IDX_machines_allocatable_cost" ON "machines" (("cpu_count" + "memory" / 1024.0), "id") WHERE "status" = 4 AND "owner_id" IS NULL AND NOT "locked"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "IDX_machines_allocatable_cost"`);
    }

}
