import { Injectable } from '@nestjs/common';
import { NodeStatus } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { invalid, notFound } from '../common/domain.error';
import { normalizeMac } from '../common/mac';
import type { ParamBag } from '../common/param-bag';
import { buildWhere, LIST_FILTERS } from './machine.filters';
import { MachineAccess } from './machine.access';
import { MachineJsonCache } from './machine-json.cache';
import { MachineRecord, MachinesRepository } from './machines.repository';
import { matchStorage, parseStorageConstraint } from './storage.constraint';

/**
 * Reading machines: one machine for a caller, listings filtered as MAAS filters them (and limited
 * to what the caller may see), and the JSON listing served from the render cache.
 */
@Injectable()
export class MachineListingService {
  constructor(
    private readonly repo: MachinesRepository,
    private readonly access: MachineAccess,
    private readonly jsonCache: MachineJsonCache,
  ) {}

  /** Whether a machine with this system id exists (the API's 404 before an admin-only refusal). */
  exists(systemId: string): Promise<boolean> {
    return this.repo.systemIdTaken(systemId);
  }

  /** One machine, if the caller may see it. */
  async get(systemId: string, actor: Actor): Promise<MachineRecord> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec) throw notFound('No Machine matches the given query.');
    this.access.require(actor, 'see', { ownerId: rec.row.owner_id });
    return rec;
  }

  /** The machines matching MAAS's listing filters that the caller may see. */
  async list(filters: ParamBag, actor: Actor): Promise<MachineRecord[]> {
    const where = this.repo.visibleTo(buildWhere(filters, LIST_FILTERS), this.access.listingOwner(actor));
    const recs = await this.repo.list(where);
    const storage = filters.get('storage');
    if (storage) {
      const wanted = parseStorageConstraint(storage);
      return recs.filter((r) => matchStorage(wanted, r.blockDevices) !== null);
    }
    return recs;
  }

  /**
   * The listing as JSON chunks: one query for ids and render keys, then full records only for
   * machines whose cached rendering is stale (three more queries, whatever their number).
   */
  async listJson(filters: ParamBag, actor: Actor): Promise<Buffer[]> {
    if (filters.get('storage')) {
      return [Buffer.from('['), ...joinChunks((await this.list(filters, actor)).map((r) => this.jsonCache.render(r))), Buffer.from(']')];
    }
    const where = this.repo.visibleTo(buildWhere(filters, LIST_FILTERS), this.access.listingOwner(actor));
    const keys = await this.repo.listRenderKeys(where);
    const out = new Array<Buffer | undefined>(keys.length);
    const missing: number[] = [];
    keys.forEach((k, i) => {
      out[i] = this.jsonCache.get(k.id, k.render_key);
      if (!out[i]) missing.push(k.id);
    });
    if (missing.length) {
      const fresh = new Map((await this.repo.listByIds(missing)).map((r) => [r.row.id, r]));
      keys.forEach((k, i) => {
        if (out[i]) return;
        const rec = fresh.get(k.id);
        if (rec) out[i] = this.jsonCache.render(rec);
      });
    }
    // An unfiltered listing by an administrator saw every machine: forget the ones that are gone.
    if (!filters.names().some((n) => n !== 'op') && this.access.listingOwner(actor) === null) {
      this.jsonCache.retainOnly(new Set(keys.map((k) => k.id)));
    }
    return [Buffer.from('['), ...joinChunks(out.filter((b): b is Buffer => !!b)), Buffer.from(']')];
  }

  /** The machine with an interface of this MAC (as sent: any MAC spelling), or null. */
  async findByMac(raw: string | undefined): Promise<MachineRecord | null> {
    const mac = raw ? normalizeMac(raw) : null;
    if (!mac) throw invalid({ mac_address: ['This field is required and must be a MAC address.'] });
    return this.repo.findByMac(mac);
  }

  /** The caller's allocated machines, optionally only those of `systemIds`. */
  allocatedTo(actor: Actor, systemIds: string[]): Promise<MachineRecord[]> {
    return this.repo.listInStatus(NodeStatus.ALLOCATED, { ownerId: actor.id, systemIds });
  }

  /** System ids of every New machine (accept_all). */
  async newMachineIds(): Promise<string[]> {
    return (await this.repo.listInStatus(NodeStatus.NEW)).map((r) => r.row.system_id);
  }
}

const COMMA = Buffer.from(',');

function joinChunks(parts: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(COMMA);
    out.push(p);
  });
  return out;
}
