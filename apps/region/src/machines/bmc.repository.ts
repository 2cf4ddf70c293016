import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { BmcEntity } from '@kiln/db';

/** One machine's power settings as stored: its BMC's (sealed) parameters and its node-scoped ones. */
export interface PowerSettingsRow {
  system_id: string;
  power_type: string | null;
  power_parameters: Record<string, string> | null;
  instance: Record<string, string>;
}

/** Every query on BMC records (bmcs) and the power settings machines keep on them. */
@Injectable()
export class BmcRepository {
  constructor(private readonly ds: DataSource) {}

  findById(em: EntityManager, id: number): Promise<BmcEntity | null> {
    return em.getRepository(BmcEntity).findOneBy({ id });
  }

  /** BMC records of one power type at one address (a chassis, or different credentials, make several). */
  findByAddress(em: EntityManager, powerType: string, powerAddress: string): Promise<BmcEntity[]> {
    return em.getRepository(BmcEntity).findBy({ powerType, powerAddress });
  }

  async insert(em: EntityManager, powerType: string, powerAddress: string, sealedParameters: Record<string, string>): Promise<number> {
    const repo = em.getRepository(BmcEntity);
    return (await repo.save(repo.create({ powerType, powerAddress, powerParameters: sealedParameters }))).id;
  }

  /** Forgets a BMC record that no machine uses any more. */
  async deleteIfUnused(em: EntityManager, id: number): Promise<void> {
    await em.query('DELETE FROM bmcs b WHERE b.id = $1 AND NOT EXISTS (SELECT 1 FROM machines m WHERE m.bmc_id = b.id AND m.id IS NOT NULL)', [id]);
  }

  /** The power settings of the given machines (every machine for null), in machine order. */
  powerSettings(systemIds: string[] | null): Promise<PowerSettingsRow[]> {
    return this.ds.query(
      `SELECT m.system_id, b.power_type, b.power_parameters, m.instance_power_parameters AS instance
         FROM machines m LEFT JOIN bmcs b ON b.id = m.bmc_id
        ${systemIds ? 'WHERE m.system_id = ANY($1)' : ''} ORDER BY m.id`,
      systemIds ? [systemIds] : [],
    );
  }
}
