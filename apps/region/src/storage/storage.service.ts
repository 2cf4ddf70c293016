import { Injectable } from '@nestjs/common';
import type { MachineStorageLayout } from '@kiln/db';
import { NodeStatus } from '@kiln/lifecycle';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { conflict, forbidden, invalid, notFound } from '../common/domain.error';
import { MachineAccess } from '../machines/machine.access';
import { StorageMachineRow, StorageRepository, StorageDeviceRow, PartitionRow, FilesystemRow } from './storage.repository';
import { alignSize, MIN_BLOCK_DEVICE_SIZE, MIN_PARTITION_SIZE, PARTITION_ALIGNMENT_SIZE, parseSize, partitionTableAvailable, RAID_MIN_DEVICES, raidSize, volumeGroupSize } from './storage.sizes';
import { BCACHE_DEFAULT_BOOT_SIZE, EFI_PARTITION_SIZE } from '../machines/storage-layout.validator';
import { StorageView } from './storage.view';

/** Filesystems a block device or partition may be formatted with (MAAS FILESYSTEM_FORMAT_TYPE_CHOICES). */
export const FORMAT_FSTYPES = ['ext2', 'ext4', 'xfs', 'fat32', 'vfat', 'swap', 'btrfs', 'zfsroot'] as const;

/** Form fields as the request sent them (first value of each; lists where a field repeats). */
export type StorageForm = Readonly<Record<string, string | undefined>>;

type Errors = Record<string, string[]>;

function fail(errors: Errors): void {
  if (Object.keys(errors).length) throw invalid(errors);
}

function sizeField(errors: Errors, field: string, raw: string | undefined, required: boolean, min: number): number | undefined {
  if (raw === undefined || raw.trim() === '') {
    if (required) errors[field] = ['This field is required.'];
    return undefined;
  }
  const n = parseSize(raw);
  if (n === undefined) {
    errors[field] = ['Enter a whole number.'];
    return undefined;
  }
  if (n < min) {
    errors[field] = [`Ensure this value is greater than or equal to ${min}.`];
    return undefined;
  }
  return n;
}

function uuidField(errors: Errors, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return randomUUID();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw.trim())) errors.uuid = ['Enter a valid UUID.'];
  return raw.trim().toLowerCase();
}

const truthy = (raw: string | undefined) => raw !== undefined && ['true', '1', 'on', 'yes'].includes(raw.toLowerCase());

/** What a storage edit may touch: the allocated-operations rule of MAAS (api/blockdevices.py). */
type Rule = 'allocated' | 'ready';

/**
 * A machine's storage model: block devices, partitions, filesystems and volume groups, with MAAS's
 * rules (api/blockdevices.py, partitions.py, volume_groups.py and their forms).
 */
@Injectable()
export class StorageService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: StorageRepository,
    private readonly access: MachineAccess,
  ) {}

  private machineOf(m: StorageMachineRow | undefined): StorageMachineRow {
    if (!m) throw notFound('No Machine matches the given query.');
    return m;
  }

  private static accessSubject(m: StorageMachineRow) {
    return { ownerId: m.owner_id, hostname: m.hostname, locked: m.locked };
  }

  /** The machine's storage for a caller who may see it. */
  async view(systemId: string, actor: Actor): Promise<StorageView> {
    const m = this.machineOf(await this.repo.machine(systemId));
    this.access.require(actor, 'see', StorageService.accessSubject(m));
    return new StorageView(await this.repo.load(m));
  }

  device(v: StorageView, rawId: string): StorageDeviceRow {
    const d = /^\d+$/.test(rawId) ? v.device(Number(rawId)) : undefined;
    if (!d) throw notFound('No BlockDevice matches the given query.');
    return d;
  }

  partition(v: StorageView, d: StorageDeviceRow, rawId: string): PartitionRow {
    const p = /^\d+$/.test(rawId) ? v.partition(Number(rawId)) : undefined;
    if (!p || v.deviceOfPartition(p).id !== d.id) throw notFound('No Partition matches the given query.');
    return p;
  }

  volumeGroup(v: StorageView, rawId: string) {
    const g = /^\d+$/.test(rawId) ? v.group(Number(rawId)) : undefined;
    if (!g || g.group_type !== 'lvm-vg') throw notFound('No VolumeGroup matches the given query.');
    return g;
  }

  /**
   * Runs an edit on the machine's storage inside a transaction holding the machine's row lock.
   * `rule`: 'ready' edits need an administrator (the API refuses others) and a Ready machine;
   * 'allocated' edits are MAAS's allocated operations: Ready (administrators) or Allocated (owner).
   */
  private async edit<T>(
    systemId: string,
    actor: Actor,
    rule: Rule,
    what: string,
    fn: (v: StorageView, em: EntityManager) => Promise<T>,
    readyStatuses: readonly number[] = [NodeStatus.READY],
  ): Promise<T> {
    return this.ds.transaction(async (em) => {
      const m = this.machineOf(await this.repo.machine(systemId, em, true));
      const subject = StorageService.accessSubject(m);
      this.access.require(actor, rule === 'ready' ? 'admin' : 'edit', subject);
      this.access.requireUnlocked(subject);
      if (rule === 'allocated') {
        if (m.status !== NodeStatus.READY && m.status !== NodeStatus.ALLOCATED) {
          throw conflict(`Cannot ${what} because the machine is not Ready or Allocated.`);
        }
        if (m.status === NodeStatus.READY && !actor.isAdmin) {
          throw forbidden(`Cannot ${what} because you don't have the permissions on a Ready machine.`);
        }
      } else if (!readyStatuses.includes(m.status)) {
        throw conflict(`Cannot ${what} because the machine is not Ready.`);
      }
      return fn(new StorageView(await this.repo.load(m, em)), em);
    });
  }

  // ---- block devices --------------------------------------------------------------------------

  async createPhysical(systemId: string, f: StorageForm, actor: Actor): Promise<number> {
    return this.ds.transaction(async (em) => {
      const m = this.machineOf(await this.repo.machine(systemId, em, true));
      const v = new StorageView(await this.repo.load(m, em));
      const errors: Errors = {};
      const name = f.name?.trim() ?? '';
      if (!name) errors.name = ['This field is required.'];
      else if (v.rows.devices.some((d) => d.name === name)) errors.name = [`A block device named ${name} already exists on this machine.`];
      const size = sizeField(errors, 'size', f.size, true, MIN_BLOCK_DEVICE_SIZE);
      const blockSize = sizeField(errors, 'block_size', f.block_size, true, 512);
      if (!f.id_path && !(f.model && f.serial)) errors.__all__ = ['serial/model are required if id_path is not provided.'];
      fail(errors);
      void actor;
      return this.repo.insertDevice(em, m.id, {
        name,
        type: 'physical',
        uuid: null,
        model: f.model ?? '',
        serial: f.serial ?? '',
        idPath: f.id_path ?? null,
        size: size!,
        blockSize: blockSize!,
      });
    });
  }

  async updateDevice(systemId: string, rawId: string, f: StorageForm, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'update block device', async (v, em) => {
      const d = this.device(v, rawId);
      const deployed = v.rows.machine.status === NodeStatus.DEPLOYED;
      if (deployed && d.type !== 'physical') throw conflict('Cannot update virtual block device because the machine is Deployed.');
      const errors: Errors = {};
      const fields: Record<string, string | number | null> = {};
      if (f.name !== undefined) {
        const name = f.name.trim();
        if (!name) errors.name = ['This field cannot be blank.'];
        else if (v.rows.devices.some((x) => x.name === name && x.id !== d.id)) errors.name = [`A block device named ${name} already exists on this machine.`];
        else fields.name = name;
      }
      if (d.type === 'physical') {
        for (const k of ['model', 'serial', 'id_path'] as const) if (f[k] !== undefined) fields[k] = f[k]!;
        if (!deployed) {
          const size = sizeField(errors, 'size', f.size, false, MIN_BLOCK_DEVICE_SIZE);
          if (size !== undefined) {
            if (size < v.used(d)) errors.size = [`Size is too small; ${v.used(d)} bytes of the device are in use.`];
            else fields.size = size;
          }
          const bs = sizeField(errors, 'block_size', f.block_size, false, 512);
          if (bs !== undefined) fields.block_size = bs;
        }
      } else {
        if (f.uuid !== undefined) fields.uuid = uuidField(errors, f.uuid);
        const size = sizeField(errors, 'size', f.size, false, MIN_BLOCK_DEVICE_SIZE);
        if (size !== undefined) {
          const g = d.filesystem_group_id === null ? undefined : v.group(d.filesystem_group_id);
          if (g?.group_type !== 'lvm-vg') errors.size = ['Only a logical volume can be resized.'];
          else {
            const free = v.vgSize(g.id) - v.vgUsed(g.id) + Number(d.size);
            const aligned = alignSize(size, PARTITION_ALIGNMENT_SIZE);
            if (aligned > free) errors.size = [`Size is too large. Maximum size is ${free}.`];
            else fields.size = aligned;
          }
        }
        if (fields.name !== undefined && d.filesystem_group_id !== null) {
          const g = v.group(d.filesystem_group_id);
          if (g?.group_type === 'lvm-vg' && !String(fields.name).startsWith(`${g.name}-`)) fields.name = `${g.name}-${fields.name}`;
        }
      }
      fail(errors);
      await this.repo.updateDevice(em, d.id, fields);
    }, [NodeStatus.READY, NodeStatus.DEPLOYED]);
  }

  async deleteDevice(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'delete block device', async (v, em) => {
      const d = this.device(v, rawId);
      this.refuseInGroup(v, v.deviceFs(d.id), 'delete block device');
      for (const p of v.partitionsOf(d.id)) this.refuseInGroup(v, v.partitionFs(p.id), 'delete block device');
      if (d.type === 'virtual' && d.filesystem_group_id !== null) {
        const g = v.group(d.filesystem_group_id);
        if (g && g.group_type !== 'lvm-vg') throw conflict(`Cannot delete block device because it is the ${g.name} ${g.group_type.startsWith('raid') ? 'RAID' : 'Bcache'}; delete that instead.`);
      }
      await this.repo.deleteDevice(em, d.id);
    });
  }

  private refuseInGroup(v: StorageView, fs: FilesystemRow | undefined, what: string): void {
    if (fs && (fs.filesystem_group_id !== null || fs.cache_set_id !== null)) {
      throw conflict(`Cannot ${what} because it is in use: ${v.fsUsedFor(fs)}.`);
    }
  }

  async setBootDisk(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'set as boot disk', async (v, em) => {
      const d = this.device(v, rawId);
      if (d.type !== 'physical') throw invalid('Cannot set a virtual block device as the boot disk.');
      await this.repo.setBootDisk(em, v.rows.machine.id, d.id);
    });
  }

  async deviceTag(systemId: string, rawId: string, tag: string | undefined, add: boolean, actor: Actor): Promise<void> {
    if (!tag) throw invalid({ tag: ['This field is required.'] });
    await this.edit(systemId, actor, 'ready', 'update block device', async (v, em) => {
      const d = this.device(v, rawId);
      const tags = d.tags.filter((t) => t !== tag);
      await this.repo.setDeviceTags(em, d.id, add ? [...tags, tag] : tags);
    });
  }

  // ---- filesystems (block devices and partitions) ---------------------------------------------

  private formatInput(f: StorageForm): { fstype: string; uuid: string; label: string | null } {
    const errors: Errors = {};
    const fstype = f.fstype?.trim() ?? '';
    if (!fstype) errors.fstype = ['This field is required.'];
    else if (!(FORMAT_FSTYPES as readonly string[]).includes(fstype)) errors.fstype = [`Select a valid choice. ${fstype} is not one of the available choices.`];
    const uuid = uuidField(errors, f.uuid);
    fail(errors);
    return { fstype, uuid, label: f.label?.trim() || null };
  }

  async formatDevice(systemId: string, rawId: string, f: StorageForm, actor: Actor): Promise<void> {
    const input = this.formatInput(f);
    await this.edit(systemId, actor, 'allocated', 'format block device', async (v, em) => {
      const d = this.device(v, rawId);
      if (v.table(d.id)) throw invalid('Cannot format block device with partitions.');
      const old = v.deviceFs(d.id);
      this.refuseInGroup(v, old, 'format block device');
      if (old) await this.repo.deleteFilesystem(em, old.id);
      await this.repo.insertFilesystem(em, v.rows.machine.id, { blockDeviceId: d.id, ...input });
    });
  }

  async formatPartition(systemId: string, rawDevice: string, rawId: string, f: StorageForm, actor: Actor): Promise<void> {
    const input = this.formatInput(f);
    await this.edit(systemId, actor, 'allocated', 'format partition', async (v, em) => {
      const p = this.partition(v, this.device(v, rawDevice), rawId);
      const old = v.partitionFs(p.id);
      this.refuseInGroup(v, old, 'format partition');
      if (old) await this.repo.deleteFilesystem(em, old.id);
      await this.repo.insertFilesystem(em, v.rows.machine.id, { partitionId: p.id, ...input });
    });
  }

  private async unformat(em: EntityManager, v: StorageView, fs: FilesystemRow | undefined, noun: string): Promise<void> {
    if (!fs) throw invalid(`${noun[0].toUpperCase()}${noun.slice(1)} is not formatted.`);
    if (fs.mount_point) throw invalid(`Filesystem is mounted and cannot be unformatted. Unmount the filesystem before unformatting the ${noun}.`);
    if (fs.filesystem_group_id !== null || fs.cache_set_id !== null) {
      throw invalid(`Filesystem is part of a filesystem group, and cannot be unformatted. Remove ${noun} from filesystem group before unformatting the ${noun}.`);
    }
    void v;
    await this.repo.deleteFilesystem(em, fs.id);
  }

  async unformatDevice(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'unformat block device', async (v, em) => this.unformat(em, v, v.deviceFs(this.device(v, rawId).id), 'block device'));
  }

  async unformatPartition(systemId: string, rawDevice: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'unformat partition', async (v, em) =>
      this.unformat(em, v, v.partitionFs(this.partition(v, this.device(v, rawDevice), rawId).id), 'partition'),
    );
  }

  private async mount(em: EntityManager, v: StorageView, fs: FilesystemRow | undefined, f: StorageForm): Promise<void> {
    if (!fs) throw invalid('Cannot mount an unformatted partition or block device.');
    if (fs.filesystem_group_id !== null || fs.cache_set_id !== null) throw invalid('Filesystem is part of a filesystem group, and cannot be mounted.');
    const errors: Errors = {};
    let mountPoint = f.mount_point?.trim() ?? '';
    if (fs.fstype === 'swap') mountPoint = 'none';
    else if (!mountPoint) errors.mount_point = ['This field is required.'];
    else if (!mountPoint.startsWith('/')) errors.mount_point = ['Enter a valid absolute path.'];
    else {
      const other = v.mounted(mountPoint);
      if (other && other.id !== fs.id) errors.mount_point = [`Another filesystem is already mounted at ${mountPoint}.`];
    }
    fail(errors);
    await this.repo.setMount(em, fs.id, mountPoint, f.mount_options?.trim() || null);
  }

  async mountDevice(systemId: string, rawId: string, f: StorageForm, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'mount block device', async (v, em) => this.mount(em, v, v.deviceFs(this.device(v, rawId).id), f));
  }

  async mountPartition(systemId: string, rawDevice: string, rawId: string, f: StorageForm, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'mount partition', async (v, em) =>
      this.mount(em, v, v.partitionFs(this.partition(v, this.device(v, rawDevice), rawId).id), f),
    );
  }

  private async unmount(em: EntityManager, fs: FilesystemRow | undefined): Promise<void> {
    if (!fs) throw invalid('Cannot unmount a partition or block device that has no filesystem.');
    if (!fs.mount_point) throw invalid('Filesystem is already unmounted.');
    await this.repo.setMount(em, fs.id, null, null);
  }

  async unmountDevice(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'unmount block device', async (v, em) => this.unmount(em, v.deviceFs(this.device(v, rawId).id)));
  }

  async unmountPartition(systemId: string, rawDevice: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'unmount partition', async (v, em) =>
      this.unmount(em, v.partitionFs(this.partition(v, this.device(v, rawDevice), rawId).id)),
    );
  }

  // ---- partitions -----------------------------------------------------------------------------

  async createPartition(systemId: string, rawDevice: string, f: StorageForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'allocated', 'create partition', async (v, em) => {
      const d = this.device(v, rawDevice);
      if (v.deviceFs(d.id)) throw invalid(`Cannot create a partition on ${d.name}: ${v.deviceUsedFor(d)}.`);
      if (d.type === 'virtual' && d.filesystem_group_id !== null && v.group(d.filesystem_group_id)?.group_type === 'lvm-vg') {
        throw invalid({ block_device: ['Cannot create a partition table on a logical volume.'] });
      }
      const errors: Errors = {};
      const requested = sizeField(errors, 'size', f.size, false, MIN_PARTITION_SIZE);
      const uuid = uuidField(errors, f.uuid);
      fail(errors);
      const free = v.table(d.id) ? v.available(d) : partitionTableAvailable(Number(d.size), [], v.overhead);
      const size = requested === undefined ? free : alignSize(requested, PARTITION_ALIGNMENT_SIZE);
      if (size < MIN_PARTITION_SIZE || size > free) {
        throw invalid({ size: [`Partition of ${size} bytes does not fit on ${d.name}; ${Math.max(0, free)} bytes are free for partitions.`] });
      }
      const tableId = v.table(d.id)?.id ?? (await this.repo.insertPartitionTable(em, v.rows.machine.id, d.id, 'GPT'));
      const last = v.partitionsOf(d.id).reduce((mx, p) => Math.max(mx, p.index), 0);
      return this.repo.insertPartition(em, v.rows.machine.id, { tableId, index: last + 1, uuid, size, bootable: truthy(f.bootable) });
    });
  }

  async deletePartition(systemId: string, rawDevice: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'allocated', 'delete partition', async (v, em) => {
      const d = this.device(v, rawDevice);
      const p = this.partition(v, d, rawId);
      this.refuseInGroup(v, v.partitionFs(p.id), 'delete partition');
      await this.repo.deletePartition(em, p.id);
      if (v.partitionsOf(d.id).length === 1) await this.repo.deletePartitionTable(em, v.table(d.id)!.id);
    });
  }

  async partitionTag(systemId: string, rawDevice: string, rawId: string, tag: string | undefined, add: boolean, actor: Actor): Promise<void> {
    if (!tag) throw invalid({ tag: ['This field is required.'] });
    await this.edit(systemId, actor, 'allocated', 'update partition', async (v, em) => {
      const p = this.partition(v, this.device(v, rawDevice), rawId);
      const tags = p.tags.filter((t) => t !== tag);
      await this.repo.setPartitionTags(em, p.id, add ? [...tags, tag] : tags);
    });
  }

  // ---- layouts --------------------------------------------------------------------------------

  /**
   * Lays a storage layout out in the model, as MAAS's storage_layouts.py does, replacing what the
   * machine had: on the boot disk an EFI partition (UEFI), an optional /boot, and the root
   * partition; flat formats it ext4 on /, lvm makes it the volume group's member with one logical
   * volume on /, bcache backs bcache0 (on /) with the cache device's partition or whole disk.
   * vmfs, custom and blank layouts leave the disks unused. Runs in the caller's transaction.
   */
  async applyLayout(em: EntityManager, machine: { id: number; architecture: string; bios_boot_method: string | null }, layout: MachineStorageLayout): Promise<void> {
    await this.repo.clear(em, machine.id);
    if (!['flat', 'lvm', 'bcache'].includes(layout.layout)) return;
    const m = { ...machine, system_id: '', hostname: '', owner_id: null, locked: false, status: 0 };
    const v = new StorageView(await this.repo.load(m, em));
    const physical = v.rows.devices.filter((d) => d.type === 'physical');
    const boot = physical.find((d) => d.is_boot) ?? physical[0];
    if (!boot) return;
    const uefi = machine.bios_boot_method === 'uefi';
    const rootDisk = physical.find((d) => d.id === layout.root_device) ?? boot;
    const tables = new Map<number, { id: number; used: number[] }>();
    const fs = (on: { blockDeviceId?: number; partitionId?: number }, fstype: string, label: string | null, mountPoint: string | null, extra: Partial<{ groupId: number; cacheSetId: number }> = {}) =>
      this.repo.insertFilesystem(em, machine.id, { ...on, fstype, uuid: randomUUID(), label, mountPoint, ...extra });
    const part = async (d: StorageDeviceRow, size: number | null, bootable = false): Promise<number> => {
      let t = tables.get(d.id);
      if (!t) {
        const type = uefi || Number(d.size) >= 2 * 1024 ** 4 ? 'GPT' : 'MBR';
        t = { id: await this.repo.insertPartitionTable(em, machine.id, d.id, type), used: [] };
        tables.set(d.id, t);
      }
      const free = partitionTableAvailable(Number(d.size), t.used, v.overhead);
      const real = Math.min(free, size === null ? free : alignSize(size, PARTITION_ALIGNMENT_SIZE, false));
      t.used.push(real);
      return this.repo.insertPartition(em, machine.id, { tableId: t.id, index: t.used.length, uuid: randomUUID(), size: real, bootable });
    };
    if (uefi && machine.architecture.split('/')[0] !== 'ppc64el') await fs({ partitionId: await part(boot, EFI_PARTITION_SIZE, true) }, 'fat32', 'efi', '/boot/efi');
    const bootSize = layout.layout === 'bcache' ? (layout.boot_size ?? BCACHE_DEFAULT_BOOT_SIZE) : layout.boot_size;
    if (bootSize) await fs({ partitionId: await part(boot, bootSize, true) }, 'ext4', 'boot', '/boot');
    const root = await part(rootDisk, layout.root_size);
    const cacheDisk = layout.layout === 'bcache' ? physical.find((d) => d.id === layout.cache_device && d.id !== boot.id) : undefined;
    if (layout.layout === 'lvm') {
      const vgName = layout.vg_name || 'vgroot';
      const gid = await this.repo.insertGroup(em, machine.id, { name: vgName, uuid: randomUUID(), groupType: 'lvm-vg' });
      await fs({ partitionId: root }, 'lvm-pv', null, null, { groupId: gid });
      const t = tables.get(rootDisk.id)!;
      const vgSize = volumeGroupSize([t.used[t.used.length - 1]]);
      const lvSize = Math.min(vgSize, layout.lv_size ? alignSize(layout.lv_size, PARTITION_ALIGNMENT_SIZE, false) : vgSize);
      const lv = await this.repo.insertDevice(em, machine.id, { name: `${vgName}-${layout.lv_name || 'lvroot'}`, type: 'virtual', uuid: randomUUID(), size: lvSize, blockSize: 4096, groupId: gid });
      await fs({ blockDeviceId: lv }, 'ext4', 'root', '/');
    } else if (cacheDisk) {
      const [cs] = [await this.repo.insertCacheSet(em, machine.id, 'cache0')];
      if (layout.cache_no_part) await fs({ blockDeviceId: cacheDisk.id }, 'bcache-cache', null, null, { cacheSetId: cs });
      else await fs({ partitionId: await part(cacheDisk, layout.cache_size ?? null) }, 'bcache-cache', null, null, { cacheSetId: cs });
      const gid = await this.repo.insertGroup(em, machine.id, { name: 'bcache0', uuid: randomUUID(), groupType: 'bcache', cacheMode: layout.cache_mode ?? 'writethrough', cacheSetId: cs });
      await fs({ partitionId: root }, 'bcache-backing', null, null, { groupId: gid });
      const t = tables.get(rootDisk.id)!;
      const dev = await this.repo.insertDevice(em, machine.id, { name: 'bcache0', type: 'virtual', uuid: randomUUID(), size: t.used[t.used.length - 1], blockSize: 4096, groupId: gid });
      await fs({ blockDeviceId: dev }, 'ext4', 'root', '/');
    } else {
      await fs({ partitionId: root }, 'ext4', 'root', '/');
    }
  }

  /**
   * After commissioning wrote the machine's disks: lays its storage layout (the one chosen, else
   * flat, MAAS's default_storage_layout) out on them, unless the commissioning skipped storage.
   * When the disks did not change, a machine that already has a storage model keeps it.
   */
  async applyLayoutAfterCommissioning(em: EntityManager, machineId: number, disksChanged: boolean): Promise<void> {
    const t = await this.repo.layoutTarget(em, machineId);
    if (!t || t.skip_storage) return;
    if (!disksChanged && (await this.repo.hasModel(em, machineId))) return;
    await this.applyLayout(em, t, t.storage_layout ?? { layout: 'flat', boot_size: null, root_device: null, root_size: null });
  }

  // ---- volume groups --------------------------------------------------------------------------

  /** The filesystems-to-be of the devices and partitions named: each must be unused. */
  private members(v: StorageView, devices: readonly string[], partitions: readonly string[], errors: Errors, keys: [string, string] = ['block_devices', 'partitions']) {
    const out: { blockDeviceId?: number; partitionId?: number }[] = [];
    const taken = new Set<string>();
    for (const raw of devices) {
      const d = /^\d+$/.test(raw) ? v.device(Number(raw)) : undefined;
      if (!d || taken.has(`d${d.id}`) || v.deviceFs(d.id) || v.table(d.id) || v.group(d.filesystem_group_id ?? -1)?.group_type === 'lvm-vg') {
        (errors[keys[0]] ??= []).push(`Select a valid choice. ${raw} is not one of the available choices.`);
      } else {
        taken.add(`d${d.id}`);
        out.push({ blockDeviceId: d.id });
      }
    }
    for (const raw of partitions) {
      const p = /^\d+$/.test(raw) ? v.partition(Number(raw)) : undefined;
      if (!p || taken.has(`p${p.id}`) || v.partitionFs(p.id)) (errors[keys[1]] ??= []).push(`Select a valid choice. ${raw} is not one of the available choices.`);
      else {
        taken.add(`p${p.id}`);
        out.push({ partitionId: p.id });
      }
    }
    return out;
  }

  async createVolumeGroup(systemId: string, f: StorageForm, devices: readonly string[], partitions: readonly string[], actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'ready', 'create volume group', async (v, em) => {
      const errors: Errors = {};
      const name = f.name?.trim() ?? '';
      if (!name) errors.name = ['This field is required.'];
      else if (v.rows.groups.some((g) => g.name === name)) errors.name = [`A volume group named ${name} already exists on this machine.`];
      const uuid = uuidField(errors, f.uuid);
      const members = this.members(v, devices, partitions, errors);
      if (!errors.block_devices && !errors.partitions && members.length === 0) errors.__all__ = ['At least one valid block device or partition is required.'];
      fail(errors);
      const gid = await this.repo.insertGroup(em, v.rows.machine.id, { name, uuid, groupType: 'lvm-vg' });
      for (const m of members) await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'lvm-pv', uuid: randomUUID(), label: null, groupId: gid });
      return gid;
    });
  }

  async updateVolumeGroup(
    systemId: string,
    rawId: string,
    f: StorageForm,
    add: { devices: readonly string[]; partitions: readonly string[] },
    actor: Actor,
    remove: { devices: readonly string[]; partitions: readonly string[] } = { devices: [], partitions: [] },
  ): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'update volume group', async (v, em) => {
      const g = this.volumeGroup(v, rawId);
      const errors: Errors = {};
      let name = g.name;
      if (f.name !== undefined) {
        name = f.name.trim();
        if (!name) errors.name = ['This field cannot be blank.'];
        else if (v.rows.groups.some((x) => x.name === name && x.id !== g.id)) errors.name = [`A volume group named ${name} already exists on this machine.`];
      }
      const uuid = f.uuid === undefined ? g.uuid : uuidField(errors, f.uuid);
      const members = this.members(v, add.devices, add.partitions, errors);
      const current = v.members(g.id);
      const removed: FilesystemRow[] = [];
      for (const [key, raws, field] of [
        ['remove_block_devices', remove.devices, 'block_device_id'],
        ['remove_partitions', remove.partitions, 'partition_id'],
      ] as const) {
        for (const raw of raws) {
          const fs = current.find((x) => String(x[field]) === raw);
          if (!fs) (errors[key] ??= []).push(`Select a valid choice. ${raw} is not one of the available choices.`);
          else removed.push(fs);
        }
      }
      if (!Object.keys(errors).length && removed.length) {
        const kept = current.filter((x) => !removed.includes(x)).map((x) => v.memberSize(x));
        const added = members.map((m) => (m.partitionId !== undefined ? Number(v.partition(m.partitionId)!.size) : Number(v.device(m.blockDeviceId!)!.size)));
        if (volumeGroupSize([...kept, ...added]) < v.vgUsed(g.id)) errors.__all__ = ['Volume group cannot be smaller than its logical volumes.'];
        else if (kept.length + added.length === 0) errors.__all__ = ['At least one valid block device or partition is required.'];
      }
      fail(errors);
      await this.repo.updateGroup(em, g.id, name, uuid);
      for (const fs of removed) await this.repo.deleteFilesystem(em, fs.id);
      for (const m of members) await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'lvm-pv', uuid: randomUUID(), label: null, groupId: g.id });
      if (name !== g.name) {
        for (const d of v.virtualDevices(g.id)) await this.repo.updateDevice(em, d.id, { name: `${name}-${d.name.slice(g.name.length + 1)}` });
      }
    });
  }

  async deleteVolumeGroup(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'delete volume group', async (v, em) => {
      const g = this.volumeGroup(v, rawId);
      for (const d of v.virtualDevices(g.id)) {
        const fs = v.deviceFs(d.id);
        if (fs && (fs.filesystem_group_id !== null || fs.cache_set_id !== null)) throw conflict(`Cannot delete volume group because logical volume ${d.name} is in use: ${v.fsUsedFor(fs)}.`);
      }
      await this.repo.deleteGroup(em, g.id);
    });
  }

  async createLogicalVolume(systemId: string, rawId: string, f: StorageForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'ready', 'create logical volume', async (v, em) => {
      const g = this.volumeGroup(v, rawId);
      const errors: Errors = {};
      const short = f.name?.trim() ?? '';
      if (!short) errors.name = ['This field is required.'];
      const name = `${g.name}-${short}`;
      if (short && v.rows.devices.some((d) => d.name === name)) errors.name = [`A logical volume named ${short} already exists in ${g.name}.`];
      const uuid = uuidField(errors, f.uuid);
      const requested = sizeField(errors, 'size', f.size, false, MIN_BLOCK_DEVICE_SIZE);
      fail(errors);
      const free = v.vgSize(g.id) - v.vgUsed(g.id);
      const size = requested === undefined ? free : alignSize(requested, PARTITION_ALIGNMENT_SIZE);
      if (size > free || size < MIN_BLOCK_DEVICE_SIZE) {
        throw invalid({ size: [free < MIN_BLOCK_DEVICE_SIZE ? `Volume group ${g.name} has no free space.` : `Size is too large. Maximum size is ${free}.`] });
      }
      return this.repo.insertDevice(em, v.rows.machine.id, { name, type: 'virtual', uuid, size, blockSize: 4096, groupId: g.id });
    });
  }

  async deleteLogicalVolume(systemId: string, rawId: string, rawLv: string | undefined, actor: Actor): Promise<void> {
    if (!rawLv) throw invalid({ id: ['This field is required.'] });
    await this.edit(systemId, actor, 'ready', 'delete logical volume', async (v, em) => {
      const g = this.volumeGroup(v, rawId);
      const d = v.virtualDevices(g.id).find((x) => String(x.id) === rawLv);
      // MAAS answers 204 for a logical volume that is not in the group.
      if (!d) return;
      const fs = v.deviceFs(d.id);
      this.refuseInGroup(v, fs, 'delete logical volume');
      await this.repo.deleteDevice(em, d.id);
    });
  }

  // ---- RAID, bcache, cache sets -----------------------------------------------------------------

  private freeName(v: StorageView, prefix: string): string {
    const names = new Set([...v.rows.groups.map((g) => g.name), ...v.rows.devices.map((d) => d.name), ...v.rows.cacheSets.map((c) => c.name)]);
    let i = 0;
    while (names.has(`${prefix}${i}`)) i += 1;
    return `${prefix}${i}`;
  }

  private groupName(v: StorageView, raw: string | undefined, prefix: string, errors: Errors, self?: number): string {
    const name = raw?.trim() || this.freeName(v, prefix);
    if (v.rows.groups.some((g) => g.name === name && g.id !== self) || v.rows.devices.some((d) => d.name === name && d.filesystem_group_id !== self)) {
      errors.name = [`A device named ${name} already exists on this machine.`];
    }
    return name;
  }

  private memberSize(v: StorageView, m: { blockDeviceId?: number; partitionId?: number }): number {
    return m.partitionId !== undefined ? Number(v.partition(m.partitionId)!.size) : Number(v.device(m.blockDeviceId!)!.size);
  }

  raid(v: StorageView, rawId: string) {
    const g = /^\d+$/.test(rawId) ? v.group(Number(rawId)) : undefined;
    if (!g || !g.group_type.startsWith('raid-')) throw notFound('No RAID matches the given query.');
    return g;
  }

  bcache(v: StorageView, rawId: string) {
    const g = /^\d+$/.test(rawId) ? v.group(Number(rawId)) : undefined;
    if (!g || g.group_type !== 'bcache') throw notFound('No Bcache matches the given query.');
    return g;
  }

  cacheSet(v: StorageView, rawId: string) {
    const c = /^\d+$/.test(rawId) ? v.rows.cacheSets.find((x) => x.id === Number(rawId)) : undefined;
    if (!c) throw notFound('No CacheSet matches the given query.');
    return c;
  }

  async createRaid(
    systemId: string,
    f: StorageForm,
    lists: { block_devices: readonly string[]; partitions: readonly string[]; spare_devices: readonly string[]; spare_partitions: readonly string[] },
    actor: Actor,
  ): Promise<number> {
    return this.edit(systemId, actor, 'ready', 'create RAID', async (v, em) => {
      const errors: Errors = {};
      const name = this.groupName(v, f.name, 'md', errors);
      const uuid = uuidField(errors, f.uuid);
      const level = f.level?.trim() ?? '';
      if (!level) errors.level = ['This field is required.'];
      else if (!(level in RAID_MIN_DEVICES)) errors.level = [`Select a valid choice. ${level} is not one of the available choices.`];
      const active = this.members(v, lists.block_devices, lists.partitions, errors);
      const spares = this.members(v, lists.spare_devices, lists.spare_partitions, errors, ['spare_devices', 'spare_partitions']);
      const ids = [...active, ...spares].map((m) => (m.partitionId !== undefined ? `p${m.partitionId}` : `d${m.blockDeviceId}`));
      if (new Set(ids).size !== ids.length) errors.__all__ = ['A device or partition cannot be both an active member and a spare.'];
      if (!errors.level && level && active.length < RAID_MIN_DEVICES[level]) {
        errors.__all__ = [`RAID level ${level.slice(5)} must have at least ${RAID_MIN_DEVICES[level]} raid devices and ${level === 'raid-0' ? 'no spares' : 'any number of spares'}.`];
      } else if (level === 'raid-0' && spares.length) errors.__all__ = ['RAID level 0 must have at least 2 raid devices and no spares.'];
      fail(errors);
      const gid = await this.repo.insertGroup(em, v.rows.machine.id, { name, uuid, groupType: level });
      for (const m of active) await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'raid', uuid: randomUUID(), label: null, groupId: gid });
      for (const m of spares) await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'raid-spare', uuid: randomUUID(), label: null, groupId: gid });
      const size = raidSize(level, active.map((m) => this.memberSize(v, m)), spares.map((m) => this.memberSize(v, m)));
      await this.repo.insertDevice(em, v.rows.machine.id, { name, type: 'virtual', uuid: randomUUID(), size, blockSize: 512, groupId: gid });
      return gid;
    });
  }

  /** Renames (and re-identifies) a RAID or bcache, and its virtual device with it. */
  async updateGroupName(systemId: string, rawId: string, kind: 'raid' | 'bcache', f: StorageForm, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', `update ${kind === 'raid' ? 'RAID' : 'Bcache'}`, async (v, em) => {
      const g = kind === 'raid' ? this.raid(v, rawId) : this.bcache(v, rawId);
      const errors: Errors = {};
      const name = f.name === undefined ? g.name : this.groupName(v, f.name, kind === 'raid' ? 'md' : 'bcache', errors, g.id);
      const uuid = f.uuid === undefined ? g.uuid : uuidField(errors, f.uuid);
      if (f.cache_mode !== undefined && kind === 'bcache' && !['writeback', 'writethrough', 'writearound'].includes(f.cache_mode)) {
        errors.cache_mode = [`Select a valid choice. ${f.cache_mode} is not one of the available choices.`];
      }
      fail(errors);
      await this.repo.updateGroup(em, g.id, name, uuid);
      if (kind === 'bcache' && f.cache_mode !== undefined) await this.repo.setCacheMode(em, g.id, f.cache_mode);
      for (const d of v.virtualDevices(g.id)) await this.repo.updateDevice(em, d.id, { name });
    });
  }

  async deleteGroupOf(systemId: string, rawId: string, kind: 'raid' | 'bcache', actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', `delete ${kind === 'raid' ? 'RAID' : 'Bcache'}`, async (v, em) => {
      const g = kind === 'raid' ? this.raid(v, rawId) : this.bcache(v, rawId);
      for (const d of v.virtualDevices(g.id)) {
        const fs = v.deviceFs(d.id);
        if ((fs && (fs.filesystem_group_id !== null || fs.cache_set_id !== null)) || v.partitionsOf(d.id).some((p) => v.partitionFs(p.id)?.filesystem_group_id != null)) {
          throw conflict(`Cannot delete ${g.name} because it is in use: ${v.deviceUsedFor(d)}.`);
        }
      }
      await this.repo.deleteGroup(em, g.id);
    });
  }

  async createCacheSet(systemId: string, f: StorageForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'ready', 'create cache set', async (v, em) => {
      const errors: Errors = {};
      if ((f.cache_device === undefined) === (f.cache_partition === undefined)) {
        throw invalid({ __all__: ['Either cache_device or cache_partition must be specified.'] });
      }
      const [m] = this.members(v, f.cache_device === undefined ? [] : [f.cache_device], f.cache_partition === undefined ? [] : [f.cache_partition], errors, ['cache_device', 'cache_partition']);
      fail(errors);
      const id = await this.repo.insertCacheSet(em, v.rows.machine.id, this.freeName(v, 'cache'));
      await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'bcache-cache', uuid: randomUUID(), label: null, cacheSetId: id });
      return id;
    });
  }

  async deleteCacheSet(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'ready', 'delete cache set', async (v, em) => {
      const c = this.cacheSet(v, rawId);
      const users = v.rows.groups.filter((g) => g.cache_set_id === c.id);
      if (users.length) throw conflict(`Cannot delete cache set; it's currently in use by ${users.map((g) => g.name).join(', ')}.`);
      await this.repo.deleteCacheSet(em, c.id);
    });
  }

  async createBcache(systemId: string, f: StorageForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'ready', 'create Bcache', async (v, em) => {
      const errors: Errors = {};
      const name = this.groupName(v, f.name, 'bcache', errors);
      const uuid = uuidField(errors, f.uuid);
      const cs = f.cache_set === undefined ? undefined : v.rows.cacheSets.find((c) => String(c.id) === f.cache_set || c.name === f.cache_set);
      if (f.cache_set === undefined) errors.cache_set = ['This field is required.'];
      else if (!cs) errors.cache_set = [`Select a valid choice. ${f.cache_set} is not one of the available choices.`];
      const mode = f.cache_mode?.trim() ?? '';
      if (!mode) errors.cache_mode = ['This field is required.'];
      else if (!['writeback', 'writethrough', 'writearound'].includes(mode)) errors.cache_mode = [`Select a valid choice. ${mode} is not one of the available choices.`];
      if ((f.backing_device === undefined) === (f.backing_partition === undefined)) {
        errors.__all__ = ['Either backing_device or backing_partition must be specified.'];
      }
      const [m] = this.members(v, f.backing_device === undefined ? [] : [f.backing_device], f.backing_partition === undefined ? [] : [f.backing_partition], errors, ['backing_device', 'backing_partition']);
      fail(errors);
      const gid = await this.repo.insertGroup(em, v.rows.machine.id, { name, uuid, groupType: 'bcache', cacheMode: mode, cacheSetId: cs!.id });
      await this.repo.insertFilesystem(em, v.rows.machine.id, { ...m, fstype: 'bcache-backing', uuid: randomUUID(), label: null, groupId: gid });
      await this.repo.insertDevice(em, v.rows.machine.id, { name, type: 'virtual', uuid: randomUUID(), size: this.memberSize(v, m), blockSize: 512, groupId: gid });
      return gid;
    });
  }
}
