import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { MachineStorageLayout } from '@kiln/db';
import { NodeStatus, statusName } from '@kiln/lifecycle';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { forbidden, invalid, isDomainError } from '../common/domain.error';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { log } from '../logging/logger';
import { AddressAllocator } from '../networking/address.allocator';
import { NetworkingRepository } from '../networking/networking.repository';
import { StorageRepository, StorageRows } from '../storage/storage.repository';
import { CloneDisk, mapDisks } from './clone.disks';
import { CloneInterfaceRow, CloneLinkRow, CloneMachineRow, CloneRepository } from './clone.repository';

/** What a destination must be in to take a clone (MAAS's clone form): Ready or Failed testing, so never in use. */
export const CLONE_DESTINATION_STATUSES: readonly number[] = [NodeStatus.READY, NodeStatus.FAILED_TESTING];

export interface CloneInput {
  source: string | undefined;
  destinations: readonly string[];
  interfaces: boolean;
  storage: boolean;
}

/**
 * One reason a destination was not cloned, coded as MAAS's clone form codes them: `is-source`,
 * `storage` (its disks cannot take the source's storage), `networking` (its interfaces cannot take
 * the source's); and `state`: its status or lock refuses a clone. A destination may have several.
 */
export interface CloneFailure {
  systemId: string;
  code: 'state' | 'is-source' | 'storage' | 'networking';
  message: string;
}

type Problem = Omit<CloneFailure, 'systemId'>;

export interface CloneResult {
  /** Destinations cloned (in the order asked). */
  cloned: string[];
  failures: CloneFailure[];
}

/** A refusal of one destination inside its transaction: rolls the transaction back. */
class DestinationRefused extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => p.message).join(' '));
  }
}

/**
 * machines op=clone: copies the source machine's storage model and/or interface configuration
 * onto each destination, each destination in its own transaction (all of it or nothing of it).
 */
@Injectable()
export class CloneService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: CloneRepository,
    private readonly storage: StorageRepository,
    private readonly networking: NetworkingRepository,
    private readonly events: EventsRepository,
    private readonly addresses: AddressAllocator,
  ) {}

  async clone(input: CloneInput, actor: Actor): Promise<CloneResult> {
    if (!actor.isAdmin) throw forbidden('You do not have permission to clone machines.');
    const errors: Record<string, string[]> = {};
    const sourceId = (input.source ?? '').trim();
    const destinations = [...new Set(input.destinations.map((d) => d.trim()).filter((d) => d !== ''))];
    if (!sourceId) errors.source = ['This field is required.'];
    if (destinations.length === 0) errors.destinations = ['This field is required.'];
    if (!input.interfaces && !input.storage) errors.__all__ = ['Either storage or interfaces must be true.'];
    if (Object.keys(errors).length) throw invalid(errors);

    const known = await this.repo.machines([sourceId, ...destinations]);
    const has = (id: string) => known.some((m) => m.system_id === id);
    if (!has(sourceId)) errors.source = [`Unknown machine: ${sourceId}.`];
    const unknown = destinations.filter((d) => !has(d));
    if (unknown.length) errors.destinations = [`Unknown machine(s): ${unknown.join(', ')}.`];
    if (Object.keys(errors).length) throw invalid(errors);
    const source = known.find((m) => m.system_id === sourceId)!;

    const result: CloneResult = { cloned: [], failures: [] };
    for (const dest of destinations) {
      if (dest === sourceId) {
        result.failures.push({ systemId: dest, code: 'is-source', message: `Source machine ${source.hostname} cannot be a destination machine.` });
        continue;
      }
      try {
        await this.ds.transaction((em) => this.cloneOne(em, source, dest, input, actor));
        result.cloned.push(dest);
        log().info({ systemId: dest, source: sourceId, storage: input.storage, interfaces: input.interfaces }, 'machine configuration cloned');
      } catch (e) {
        if (e instanceof DestinationRefused) result.failures.push(...e.problems.map((p) => ({ systemId: dest, ...p })));
        else if (isDomainError(e)) result.failures.push({ systemId: dest, code: e.code === 'CONFLICT' ? 'state' : 'storage', message: e.message });
        else throw e;
        log().info({ systemId: dest, source: sourceId }, 'machine configuration clone refused');
      }
    }
    return result;
  }

  private async cloneOne(em: EntityManager, sourceRow: CloneMachineRow, destId: string, input: CloneInput, actor: Actor): Promise<void> {
    // Both rows locked in id order (two clones in opposite directions must not deadlock), the
    // source shared so that it does not change while it is copied.
    const locked = new Map<string, CloneMachineRow>();
    const order = [
      { systemId: sourceRow.system_id, id: sourceRow.id, mode: 'share' as const },
      { systemId: destId, id: (await this.repo.machines([destId], em))[0]?.id ?? 0, mode: 'update' as const },
    ].sort((a, b) => a.id - b.id);
    for (const m of order) {
      const row = await this.repo.lockMachine(em, m.systemId, m.mode);
      if (!row) throw new DestinationRefused([{ code: 'state', message: `Machine ${m.systemId} no longer exists.` }]);
      locked.set(m.systemId, row);
    }
    const source = locked.get(sourceRow.system_id)!;
    const dest = locked.get(destId)!;
    if (dest.locked) throw new DestinationRefused([{ code: 'state', message: `Machine ${dest.hostname} is locked.` }]);
    if (!CLONE_DESTINATION_STATUSES.includes(dest.status)) {
      throw new DestinationRefused([
        { code: 'state', message: `Machine ${dest.hostname} is ${statusName(dest.status as NodeStatus)}; a clone destination must be Ready or Failed testing.` },
      ]);
    }
    const problems: Problem[] = [];
    let storagePlan: (() => Promise<void>) | undefined;
    let interfacePlan: (() => Promise<void>) | undefined;
    if (input.storage) {
      const plan = await this.planStorage(em, source, dest);
      if (Array.isArray(plan)) problems.push(...plan.map((message) => ({ code: 'storage' as const, message })));
      else storagePlan = plan.apply;
    }
    if (input.interfaces) {
      const plan = await this.planInterfaces(em, source, dest);
      if (Array.isArray(plan)) problems.push(...plan.map((message) => ({ code: 'networking' as const, message })));
      else interfacePlan = plan.apply;
    }
    if (problems.length) throw new DestinationRefused(problems);
    await storagePlan?.();
    await interfacePlan?.();
    const what = [input.storage && 'storage', input.interfaces && 'interfaces'].filter(Boolean).join(' and ');
    await this.events.append(
      {
        machineId: dest.id,
        systemId: dest.system_id,
        hostname: dest.hostname,
        ...MachineEvents.CONFIGURATION_CLONED,
        description: `Cloned ${what} from ${source.hostname} (${source.system_id}) by ${actor.username}`,
        username: actor.username,
      },
      em,
    );
  }

  // ---- storage ---------------------------------------------------------------------------------

  private async storageRows(em: EntityManager, systemId: string): Promise<StorageRows> {
    return this.storage.load((await this.storage.machine(systemId, em))!, em);
  }

  /**
   * Checks that the destination's disks can take the source's storage model; the plan replaces
   * the destination's model with a copy of the source's mapped onto its disks (partition tables,
   * partitions, filesystems and mounts, volume groups and logical volumes, RAIDs, bcache).
   */
  private async planStorage(em: EntityManager, source: CloneMachineRow, dest: CloneMachineRow): Promise<string[] | { apply: () => Promise<void> }> {
    const [src, dst] = [await this.storageRows(em, source.system_id), await this.storageRows(em, dest.system_id)];
    const disk = (d: StorageRows['devices'][number]): CloneDisk => ({ id: d.id, name: d.name, size: Number(d.size), isBoot: d.is_boot });
    const mapping = mapDisks(src.devices.filter((d) => d.type === 'physical').map(disk), dst.devices.filter((d) => d.type === 'physical').map(disk));
    if (!mapping.ok) return mapping.problems;
    const deviceMap = new Map(mapping.pairs.map((p) => [p.source.id, p.destination.id]));
    return {
      apply: async () => {
        const mid = dest.id;
        await this.storage.clear(em, mid);
        const cacheSets = new Map<number, number>();
        for (const c of src.cacheSets) cacheSets.set(c.id, await this.storage.insertCacheSet(em, mid, c.name));
        const groups = new Map<number, number>();
        for (const g of src.groups) {
          groups.set(
            g.id,
            await this.storage.insertGroup(em, mid, {
              name: g.name,
              uuid: randomUUID(),
              groupType: g.group_type,
              cacheMode: g.cache_mode,
              cacheSetId: g.cache_set_id === null ? null : (cacheSets.get(g.cache_set_id) ?? null),
            }),
          );
        }
        for (const d of src.devices.filter((x) => x.type !== 'physical')) {
          const id = await this.storage.insertDevice(em, mid, {
            name: d.name,
            type: d.type,
            uuid: randomUUID(),
            size: Number(d.size),
            blockSize: d.block_size,
            groupId: d.filesystem_group_id === null ? null : (groups.get(d.filesystem_group_id) ?? null),
          });
          deviceMap.set(d.id, id);
          if (d.tags.length) await this.storage.setDeviceTags(em, id, d.tags);
        }
        const tables = new Map<number, number>();
        for (const t of src.tables) {
          const on = deviceMap.get(t.block_device_id);
          if (on !== undefined) tables.set(t.id, await this.storage.insertPartitionTable(em, mid, on, t.table_type));
        }
        const partitions = new Map<number, number>();
        for (const p of src.partitions) {
          const table = tables.get(p.partition_table_id);
          if (table === undefined) continue;
          const id = await this.storage.insertPartition(em, mid, { tableId: table, index: p.index, uuid: randomUUID(), size: Number(p.size), bootable: p.bootable });
          partitions.set(p.id, id);
          if (p.tags.length) await this.storage.setPartitionTags(em, id, p.tags);
        }
        for (const f of src.filesystems) {
          const blockDeviceId = f.block_device_id === null ? undefined : deviceMap.get(f.block_device_id);
          const partitionId = f.partition_id === null ? undefined : partitions.get(f.partition_id);
          // A filesystem on a disk the mapping left out has nowhere to go (cannot happen: every source disk is mapped).
          if ((f.block_device_id !== null && blockDeviceId === undefined) || (f.partition_id !== null && partitionId === undefined)) continue;
          await this.storage.insertFilesystem(em, mid, {
            blockDeviceId,
            partitionId,
            fstype: f.fstype,
            uuid: randomUUID(),
            label: f.label,
            mountPoint: f.mount_point,
            mountOptions: f.mount_options,
            groupId: f.filesystem_group_id === null ? null : (groups.get(f.filesystem_group_id) ?? null),
            cacheSetId: f.cache_set_id === null ? null : (cacheSets.get(f.cache_set_id) ?? null),
          });
        }
        // Special mounts made under an allocation belong to that allocation; the others are configuration.
        const specials = source.special_filesystems.filter((f) => !f.acquired).map((f) => ({ ...f, uuid: randomUUID() }));
        await this.repo.setStorageSettings(em, mid, remapLayout(source.storage_layout, deviceMap), specials);
      },
    };
  }

  // ---- interfaces ------------------------------------------------------------------------------

  /**
   * Checks that the destination has an interface of each name the source has; the plan copies
   * each interface's configuration onto the destination's interface of the same name.
   */
  private async planInterfaces(em: EntityManager, source: CloneMachineRow, dest: CloneMachineRow): Promise<string[] | { apply: () => Promise<void> }> {
    const [src, dst] = [await this.repo.interfaces(em, source.id), await this.repo.interfaces(em, dest.id)];
    const byName = new Map(dst.map((i) => [i.name, i]));
    const missing = src.filter((i) => !byName.has(i.name)).map((i) => i.name);
    if (missing.length) return [`Destination has no interface named ${missing.join(', ')} (the interface names must be the same as the source's).`];
    const links = await this.repo.links(em, source.id);
    return {
      apply: async () => {
        for (const s of src) await this.copyInterface(em, s, byName.get(s.name)!, links.filter((l) => l.interface_id === s.id));
      },
    };
  }

  /**
   * Copies one interface's configuration onto the destination's interface of the same name:
   * enabled, MTU, tags, VLAN, per-type parameters and its subnet links (mode, subnet, default
   * gateway). A STATIC link gets a fresh free address on the same subnet (the seed: "a new IP will
   * be allocated to the interface on the destination machine"); the destination's own links and
   * their addresses are dropped first.
   */
  private async copyInterface(em: EntityManager, from: CloneInterfaceRow, to: CloneInterfaceRow, links: readonly CloneLinkRow[]): Promise<void> {
    await this.repo.updateInterface(em, to.id, { enabled: from.enabled, mtu: from.mtu, tags: from.tags, vlan_id: from.vlan_id, params: from.params });
    await this.repo.clearLinks(em, to.id);
    for (const link of links) {
      let staticIpId: number | null = null;
      if (link.mode === 'static' && link.subnet_id !== null) {
        await this.addresses.lock(em, link.subnet_id);
        const ip = await this.freeAddress(em, link.subnet_id);
        if (ip === null) throw new DestinationRefused([{ code: 'networking', message: `No free address left on subnet ${link.subnet_id} for interface ${to.name}.` }]);
        staticIpId = await this.repo.insertStickyIp(em, ip, link.subnet_id, to.id);
      }
      await this.repo.insertLink(em, { ...link, interface_id: to.id, static_ip_id: staticIpId });
    }
  }

  /** The lowest free address of the subnet (AddressAllocator), with the subnet locked. */
  private async freeAddress(em: EntityManager, subnetId: number): Promise<string | null> {
    const [subnet] = await this.networking.subnets(em, { id: subnetId });
    if (!subnet) return null;
    return this.addresses.firstFree(em, subnet);
  }
}

/** The source's chosen layout with its disk references moved to the destination's disks. */
function remapLayout(layout: MachineStorageLayout | null, deviceMap: ReadonlyMap<number, number>): MachineStorageLayout | null {
  if (!layout) return null;
  const move = (id: number | null) => (id === null ? null : (deviceMap.get(id) ?? null));
  const out: MachineStorageLayout = { ...layout, root_device: move(layout.root_device) };
  if (layout.cache_device !== undefined) out.cache_device = move(layout.cache_device);
  return out;
}
