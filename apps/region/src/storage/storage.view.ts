/**
 * A machine's storage as MAAS shows it, computed from the stored rows: each block device's
 * filesystem, partition table, partitions, used/available size and `used_for` text, and each
 * volume group's size. Pure.
 */
import type { FilesystemGroupRow, FilesystemRow, PartitionRow, StorageDeviceRow, StorageMachineRow, StorageRows } from './storage.repository';
import { partitionTableAvailable, partitionTableOverhead, partitionTableUsed, volumeGroupSize } from './storage.sizes';

const API = '/MAAS/api/2.0';

export function filesystemJson(f: FilesystemRow | undefined) {
  if (!f) return null;
  return { fstype: f.fstype, label: f.label, uuid: f.uuid, mount_point: f.mount_point, mount_options: f.mount_options };
}

/** human_readable_bytes: "%.1f %s" in powers of 1000. */
export function humanBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** What a view reads of the machine itself. */
export type ViewMachine = Pick<StorageMachineRow, 'system_id' | 'architecture' | 'bios_boot_method'>;

export class StorageView<M extends ViewMachine = StorageMachineRow> {
  readonly overhead: number;

  constructor(readonly rows: Omit<StorageRows, 'machine'> & { machine: M }) {
    this.overhead = partitionTableOverhead(rows.machine.architecture, rows.machine.bios_boot_method);
  }

  get systemId(): string {
    return this.rows.machine.system_id;
  }

  device(id: number): StorageDeviceRow | undefined {
    return this.rows.devices.find((d) => d.id === id);
  }

  table(deviceId: number) {
    return this.rows.tables.find((t) => t.block_device_id === deviceId);
  }

  partitionsOf(deviceId: number): PartitionRow[] {
    const t = this.table(deviceId);
    return t ? this.rows.partitions.filter((p) => p.partition_table_id === t.id) : [];
  }

  partition(id: number): PartitionRow | undefined {
    return this.rows.partitions.find((p) => p.id === id);
  }

  deviceOfPartition(p: PartitionRow): StorageDeviceRow {
    const t = this.rows.tables.find((x) => x.id === p.partition_table_id)!;
    return this.device(t.block_device_id)!;
  }

  deviceFs(deviceId: number): FilesystemRow | undefined {
    return this.rows.filesystems.find((f) => f.block_device_id === deviceId);
  }

  partitionFs(partitionId: number): FilesystemRow | undefined {
    return this.rows.filesystems.find((f) => f.partition_id === partitionId);
  }

  group(id: number): FilesystemGroupRow | undefined {
    return this.rows.groups.find((g) => g.id === id);
  }

  mounted(mountPoint: string): FilesystemRow | undefined {
    return this.rows.filesystems.find((f) => f.mount_point === mountPoint);
  }

  /** Free space for new partitions on a device (none when it carries a filesystem). */
  available(d: StorageDeviceRow): number {
    const size = Number(d.size);
    if (this.deviceFs(d.id)) return 0;
    if (!this.table(d.id)) return size;
    return partitionTableAvailable(size, this.partitionsOf(d.id).map((p) => Number(p.size)), this.overhead);
  }

  used(d: StorageDeviceRow): number {
    if (this.deviceFs(d.id)) return Number(d.size);
    if (!this.table(d.id)) return 0;
    return partitionTableUsed(this.partitionsOf(d.id).map((p) => Number(p.size)), this.overhead);
  }

  /** MAAS's used_for text of a filesystem, or null for none. */
  fsUsedFor(f: FilesystemRow | undefined): string | null {
    if (!f) return null;
    const group = f.filesystem_group_id === null ? undefined : this.group(f.filesystem_group_id);
    if (f.mount_point) return `${f.fstype} formatted filesystem mounted at ${f.mount_point}`;
    if (f.fstype === 'lvm-pv') return `LVM volume for ${group?.name ?? ''}`;
    if (f.fstype === 'raid') return `Active ${group?.group_type ?? 'raid'} device for ${group?.name ?? ''}`;
    if (f.fstype === 'raid-spare') return `Spare ${group?.group_type ?? 'raid'} device for ${group?.name ?? ''}`;
    if (f.fstype === 'bcache-cache') return `Cache device for ${this.rows.cacheSets.find((c) => c.id === f.cache_set_id)?.name ?? ''}`;
    if (f.fstype === 'bcache-backing') return `Backing device for ${group?.name ?? ''}`;
    return `Unmounted ${f.fstype} formatted filesystem`;
  }

  deviceUsedFor(d: StorageDeviceRow): string {
    const fs = this.fsUsedFor(this.deviceFs(d.id));
    if (fs) return fs;
    const t = this.table(d.id);
    if (t) {
      const n = this.partitionsOf(d.id).length;
      return `${t.table_type} partitioned with ${n} partition${n === 1 ? '' : 's'}`;
    }
    return 'Unused';
  }

  /** The boot disk: the one marked so, else the first physical disk. */
  bootDisk(): StorageDeviceRow | undefined {
    const physical = this.rows.devices.filter((d) => d.type === 'physical');
    return physical.find((d) => d.is_boot) ?? physical[0];
  }

  /**
   * A partition's number on its disk, as MAAS numbers it (Partition.get_partition_number): GPT
   * boot disks keep number 1 for bios_grub (amd64 booting BIOS) or PReP (ppc64el); MBR numbers
   * from the fourth on are logical partitions (5, 6, ...).
   */
  partitionNumber(p: PartitionRow): number {
    const d = this.deviceOfPartition(p);
    const t = this.table(d.id)!;
    const idx = this.partitionsOf(d.id).findIndex((x) => x.id === p.id);
    if (t.table_type === 'MBR') return idx < 3 ? idx + 1 : idx + 2;
    const arch = this.rows.machine.architecture.split('/')[0];
    const reserved = d.id === this.bootDisk()?.id && (arch === 'ppc64el' || (arch === 'amd64' && this.rows.machine.bios_boot_method !== 'uefi'));
    return reserved ? idx + 2 : idx + 1;
  }

  partitionJson(p: PartitionRow) {
    const d = this.deviceOfPartition(p);
    return {
      uuid: p.uuid,
      size: Number(p.size),
      bootable: p.bootable,
      tags: p.tags,
      path: `/dev/disk/by-dname/${d.name}-part${this.partitionNumber(p)}`,
      system_id: this.systemId,
      used_for: this.fsUsedFor(this.partitionFs(p.id)) ?? 'Unused',
      type: 'partition',
      filesystem: filesystemJson(this.partitionFs(p.id)),
      id: p.id,
      device_id: d.id,
      resource_uri: `${API}/nodes/${this.systemId}/blockdevices/${d.id}/partition/${p.id}`,
    };
  }

  deviceJson(d: StorageDeviceRow) {
    const size = Number(d.size);
    const physical = d.type === 'physical';
    return {
      system_id: this.systemId,
      id: d.id,
      name: d.name,
      uuid: physical ? null : d.uuid,
      type: d.type,
      path: `/dev/disk/by-dname/${d.name}`,
      model: physical ? d.model : null,
      serial: physical ? d.serial : null,
      id_path: d.id_path,
      size,
      block_size: d.block_size,
      available_size: size - this.used(d),
      used_size: this.used(d),
      used_for: this.deviceUsedFor(d),
      tags: d.tags,
      filesystem: filesystemJson(this.deviceFs(d.id)),
      partition_table_type: this.table(d.id)?.table_type ?? null,
      partitions: this.partitionsOf(d.id).map((p) => this.partitionJson(p)),
      firmware_version: physical ? d.firmware_version : null,
      storage_pool: null,
      numa_node: physical ? d.numa_node : null,
      resource_uri: `${API}/nodes/${this.systemId}/blockdevices/${d.id}/`,
    };
  }

  /** The filesystems that belong to a group (its members), with the device or partition they are on. */
  members(groupId: number): FilesystemRow[] {
    return this.rows.filesystems.filter((f) => f.filesystem_group_id === groupId);
  }

  memberJson(f: FilesystemRow) {
    if (f.partition_id !== null) return this.partitionJson(this.partition(f.partition_id)!);
    return this.deviceJson(this.device(f.block_device_id!)!);
  }

  memberSize(f: FilesystemRow): number {
    if (f.partition_id !== null) return Number(this.partition(f.partition_id)!.size);
    return Number(this.device(f.block_device_id!)!.size);
  }

  virtualDevices(groupId: number): StorageDeviceRow[] {
    return this.rows.devices.filter((d) => d.type === 'virtual' && d.filesystem_group_id === groupId);
  }

  vgSize(groupId: number): number {
    return volumeGroupSize(this.members(groupId).map((f) => this.memberSize(f)));
  }

  vgUsed(groupId: number): number {
    return this.virtualDevices(groupId).reduce((s, d) => s + Number(d.size), 0);
  }

  volumeGroupJson(g: FilesystemGroupRow) {
    const size = this.vgSize(g.id);
    const used = this.vgUsed(g.id);
    return {
      system_id: this.systemId,
      id: g.id,
      uuid: g.uuid,
      name: g.name,
      devices: this.members(g.id).map((f) => this.memberJson(f)),
      size,
      human_size: humanBytes(size),
      available_size: size - used,
      human_available_size: humanBytes(size - used),
      used_size: used,
      human_used_size: humanBytes(used),
      logical_volumes: this.virtualDevices(g.id).map((d) => this.deviceJson(d)),
      resource_uri: `${API}/nodes/${this.systemId}/volume-group/${g.id}/`,
    };
  }

  private virtualJson(groupId: number) {
    const [vd] = this.virtualDevices(groupId);
    return vd ? this.deviceJson(vd) : null;
  }

  raidJson(g: FilesystemGroupRow) {
    const members = this.members(g.id);
    const size = Number(this.virtualDevices(g.id)[0]?.size ?? 0);
    return {
      system_id: this.systemId,
      id: g.id,
      uuid: g.uuid,
      name: g.name,
      level: g.group_type,
      devices: members.filter((f) => f.fstype === 'raid').map((f) => this.memberJson(f)),
      spare_devices: members.filter((f) => f.fstype === 'raid-spare').map((f) => this.memberJson(f)),
      size,
      human_size: humanBytes(size),
      virtual_device: this.virtualJson(g.id),
      resource_uri: `${API}/nodes/${this.systemId}/raid/${g.id}/`,
    };
  }

  cacheSetJson(id: number) {
    const c = this.rows.cacheSets.find((x) => x.id === id)!;
    const cache = this.rows.filesystems.find((f) => f.fstype === 'bcache-cache' && f.cache_set_id === id);
    return {
      system_id: this.systemId,
      id: c.id,
      name: c.name,
      cache_device: cache ? this.memberJson(cache) : null,
      resource_uri: `${API}/nodes/${this.systemId}/bcache-cache-set/${c.id}/`,
    };
  }

  bcacheJson(g: FilesystemGroupRow) {
    const backing = this.members(g.id).find((f) => f.fstype === 'bcache-backing');
    const size = Number(this.virtualDevices(g.id)[0]?.size ?? 0);
    return {
      system_id: this.systemId,
      id: g.id,
      uuid: g.uuid,
      name: g.name,
      cache_set: g.cache_set_id === null ? null : this.cacheSetJson(g.cache_set_id),
      backing_device: backing ? this.memberJson(backing) : null,
      size,
      human_size: humanBytes(size),
      virtual_device: this.virtualJson(g.id),
      cache_mode: g.cache_mode,
      resource_uri: `${API}/nodes/${this.systemId}/bcache/${g.id}/`,
    };
  }
}

/** The stubs the machine JSON lists its groups and cache sets with (reference 2.8.1). */
export function storageStubs(v: StorageView<ViewMachine>) {
  const stub = (id: number) => ({ system_id: v.systemId, id, __incomplete__: true });
  const groups = (pred: (t: string) => boolean) => v.rows.groups.filter((g) => pred(g.group_type)).map((g) => stub(g.id));
  return {
    cache_sets: v.rows.cacheSets.map((c) => stub(c.id)),
    bcaches: groups((t) => t === 'bcache'),
    raids: groups((t) => t.startsWith('raid-')),
    volume_groups: groups((t) => t === 'lvm-vg'),
  };
}
