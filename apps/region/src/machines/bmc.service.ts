import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { BmcEntity } from '@kiln/db';
import { isSecretField, powerType } from '../power/power-types.catalogue';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { BmcRepository } from './bmc.repository';

/**
 * BMC records and their secrets: which record a machine's power settings belong to, sealing
 * secrets before they reach the database and opening them for those allowed to read them.
 */
@Injectable()
export class BmcService {
  constructor(
    private readonly bmcs: BmcRepository,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
  ) {}

  /** Stored (sealed) parameters, opened. */
  open(params: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'string' ? this.secrets.open(v) : String(v);
    return out;
  }

  /** The parameters of `params` that belong to the node rather than its BMC (node_id on a chassis). */
  nodeScoped(type: string, params: Record<string, string>): Record<string, string> {
    const def = powerType(type);
    const out: Record<string, string> = {};
    for (const f of def?.fields ?? []) if (f.scope === 'node' && params[f.name] !== undefined) out[f.name] = params[f.name];
    return out;
  }

  /** A machine's BMC record, or null for a machine without one. */
  find(em: EntityManager, bmcId: number | null): Promise<BmcEntity | null> {
    return bmcId ? this.bmcs.findById(em, bmcId) : Promise.resolve(null);
  }

  /**
   * BMC-scoped parameters live on a BMC row, shared by every machine whose BMC has the same
   * power type and the same BMC-scoped parameters (a chassis with several nodes differs only in
   * node-scoped ones, such as node_id). Different credentials for the same address make a
   * different BMC record, as in MAAS. Secrets are sealed before they reach the database.
   */
  async save(em: EntityManager, type: string, params: Record<string, string>, previousId: number | null): Promise<number> {
    const def = powerType(type);
    const plain: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (def?.fields.find((f) => f.name === k)?.scope === 'node') continue;
      plain[k] = v;
    }
    const address = params.power_address ?? '';
    const candidates = await this.bmcs.findByAddress(em, type, address);
    const same = candidates.find((b) => {
      const open = this.open(b.powerParameters);
      const keys = new Set([...Object.keys(open), ...Object.keys(plain)]);
      return [...keys].every((k) => (open[k] ?? '') === (plain[k] ?? ''));
    });
    let id: number;
    if (same) id = same.id;
    else {
      const sealed: Record<string, string> = {};
      for (const [k, v] of Object.entries(plain)) sealed[k] = isSecretField(type, k) && v ? this.secrets.seal(v) : v;
      id = await this.bmcs.insert(em, type, address, sealed);
    }
    // The machine moved to another BMC record: forget the old one if nothing else uses it.
    if (previousId && previousId !== id) await this.bmcs.deleteIfUnused(em, previousId);
    return id;
  }

  /** Power parameters of machines by system id, secrets opened (admins only: the API says so). */
  async powerParameters(systemIds: string[] | null): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const r of await this.bmcs.powerSettings(systemIds)) out[r.system_id] = { ...this.open(r.power_parameters ?? {}), ...(r.instance ?? {}) };
    return out;
  }
}
