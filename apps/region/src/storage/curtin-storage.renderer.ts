/**
 * curtin's storage config (version 1) rendered from a machine's storage model, as MAAS's
 * curtin storage preseed renders it: disks with their partition tables, partitions in order
 * (a bios_grub partition first on a GPT boot disk of a BIOS-booting amd64 machine), volume groups
 * and logical volumes, RAID arrays, bcache devices, then formats and mounts (mounts in path order).
 * Pure.
 */
import type { YamlValue } from '../machines/yaml.writer';
import type { FilesystemRow, StorageDeviceRow } from './storage.repository';
import { BIOS_GRUB_PARTITION_SIZE, INITIAL_PARTITION_OFFSET, PREP_PARTITION_SIZE } from './storage.sizes';
import type { StorageView, ViewMachine } from './storage.view';

type Entry = { [key: string]: YamlValue | undefined };

export interface CurtinSpecialMount {
  fstype: string;
  mount_point: string;
  mount_options: string;
}

const bytes = (n: number): string => `${n}B`;

export function renderModelStorage(v: StorageView<ViewMachine>, specials: readonly CurtinSpecialMount[]): { version: 1; config: Entry[] } {
  const physical = v.rows.devices.filter((d) => d.type === 'physical');
  const boot = v.bootDisk();
  const arch = v.rows.machine.architecture.split('/')[0];
  const uefi = v.rows.machine.bios_boot_method === 'uefi';
  const disks: Entry[] = [];
  const partitions: Entry[] = [];
  const virtual: Entry[] = [];
  const formats: Entry[] = [];
  const mounts: { path: string; entry: Entry }[] = [];
  /** curtin ids: a device by its name, a partition as <disk>-part<n>. */
  const partitionIds = new Map<number, string>();

  const used = (d: StorageDeviceRow) => v.table(d.id) || v.deviceFs(d.id);
  for (const d of physical) {
    if (!used(d) && d.id !== boot?.id) continue;
    const t = v.table(d.id);
    const e: Entry = { id: d.name, name: d.name, type: 'disk', wipe: 'superblock', ptable: t ? (t.table_type === 'MBR' ? 'msdos' : 'gpt') : undefined };
    if (d.serial && d.model) {
      e.serial = d.serial;
      e.model = d.model;
    } else e.path = d.id_path ?? `/dev/${d.name}`;
    if (d.id === boot?.id) e.grub_device = true;
    disks.push(e);
  }
  for (const d of v.rows.devices) {
    const t = v.table(d.id);
    if (!t) continue;
    let offsetGiven = false;
    if (d.id === boot?.id && t.table_type === 'GPT' && !uefi && arch === 'amd64') {
      partitions.push({ id: `${d.name}-part1`, name: `${d.name}-part1`, type: 'partition', number: 1, device: d.name, size: bytes(BIOS_GRUB_PARTITION_SIZE), wipe: 'zero', flag: 'bios_grub', offset: bytes(INITIAL_PARTITION_OFFSET) });
      offsetGiven = true;
    } else if (d.id === boot?.id && t.table_type === 'GPT' && arch === 'ppc64el') {
      partitions.push({ id: `${d.name}-part1`, name: `${d.name}-part1`, type: 'partition', number: 1, device: d.name, size: bytes(PREP_PARTITION_SIZE), wipe: 'zero', flag: 'prep', offset: bytes(INITIAL_PARTITION_OFFSET) });
      offsetGiven = true;
    }
    for (const p of v.partitionsOf(d.id)) {
      const number = v.partitionNumber(p);
      const id = `${d.name}-part${number}`;
      partitionIds.set(p.id, id);
      partitions.push({
        id,
        name: id,
        type: 'partition',
        number,
        uuid: p.uuid,
        device: d.name,
        size: bytes(Number(p.size)),
        wipe: 'superblock',
        flag: p.bootable ? 'boot' : undefined,
        offset: offsetGiven ? undefined : bytes(INITIAL_PARTITION_OFFSET),
      });
      offsetGiven = true;
    }
  }
  const idOf = (f: FilesystemRow): string => (f.partition_id !== null ? partitionIds.get(f.partition_id)! : v.device(f.block_device_id!)!.name);

  for (const g of v.rows.groups) {
    const members = v.members(g.id);
    if (g.group_type === 'lvm-vg') {
      virtual.push({ id: g.name, name: g.name, type: 'lvm_volgroup', uuid: g.uuid, devices: members.map(idOf) });
      for (const lv of v.virtualDevices(g.id)) {
        virtual.push({ id: lv.name, name: lv.name.slice(g.name.length + 1), type: 'lvm_partition', volgroup: g.name, size: bytes(Number(lv.size)) });
      }
    } else if (g.group_type.startsWith('raid-')) {
      const [md] = v.virtualDevices(g.id);
      virtual.push({
        id: md?.name ?? g.name,
        name: md?.name ?? g.name,
        type: 'raid',
        raidlevel: Number(g.group_type.slice(5)),
        devices: members.filter((f) => f.fstype === 'raid').map(idOf),
        spare_devices: members.filter((f) => f.fstype === 'raid-spare').map(idOf),
      });
    } else if (g.group_type === 'bcache') {
      const [dev] = v.virtualDevices(g.id);
      const backing = members.find((f) => f.fstype === 'bcache-backing');
      const cache = v.rows.filesystems.find((f) => f.fstype === 'bcache-cache' && f.cache_set_id === g.cache_set_id);
      virtual.push({
        id: dev?.name ?? g.name,
        name: dev?.name ?? g.name,
        type: 'bcache',
        backing_device: backing ? idOf(backing) : undefined,
        cache_device: cache ? idOf(cache) : undefined,
        cache_mode: g.cache_mode ?? undefined,
      });
    }
  }

  for (const f of v.rows.filesystems) {
    if (f.filesystem_group_id !== null || f.cache_set_id !== null) continue;
    const volume = idOf(f);
    const fid = `${volume}_format`;
    formats.push({ id: fid, type: 'format', fstype: f.fstype, label: f.label ?? undefined, uuid: f.uuid, volume });
    if (f.mount_point) mounts.push({ path: f.mount_point, entry: { id: `${volume}_mount`, type: 'mount', path: f.mount_point, options: f.mount_options ?? undefined, device: fid } });
  }
  const special = specials.map((f, i): Entry => ({ id: `${f.fstype}-mount${i}`, type: 'mount', fstype: f.fstype, spec: f.fstype, path: f.mount_point, options: f.mount_options || undefined }));
  return {
    version: 1,
    config: [...disks, ...partitions, ...virtual, ...formats, ...mounts.sort((a, b) => a.path.localeCompare(b.path)).map((m) => m.entry), ...special],
  };
}
