import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ActionDef, ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import type { RequestParams } from '../api/http/params';
import { StorageForm, StorageService } from './storage.service';

const API = '/MAAS/api/2.0';
const NODE = `${API}/nodes/{system_id}`;

function form(params: RequestParams, fields: readonly string[]): StorageForm {
  const out: Record<string, string | undefined> = {};
  for (const f of fields) {
    const v = params.get(f);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

const actor = (r: ApiRequest) => r.user!;
const sid = (r: ApiRequest) => r.pathParams.system_id;

const FORMAT_PARAMS: ParamDoc[] = [
  { name: 'fstype', required: true, doc: 'Type of filesystem: ext2, ext4, xfs, fat32, vfat, swap, btrfs or zfsroot.' },
  { name: 'uuid', doc: 'UUID of the filesystem (generated when omitted).' },
  { name: 'label', doc: 'Label of the filesystem.' },
];
const MOUNT_PARAMS: ParamDoc[] = [
  { name: 'mount_point', required: true, doc: "Path on the filesystem to mount (absolute; 'none' for swap)." },
  { name: 'mount_options', doc: 'Options to pass to mount(8).' },
];
const TAG_PARAMS: ParamDoc[] = [{ name: 'tag', required: true, doc: 'The tag.' }];
const PHYSICAL_PARAMS: ParamDoc[] = [
  { name: 'name', doc: 'Name of the block device.' },
  { name: 'model', doc: 'Model of the block device.' },
  { name: 'serial', doc: 'Serial number of the block device.' },
  { name: 'id_path', doc: "Only used if model and serial cannot be provided: a path that is fixed and doesn't change with boot order or kernel version." },
  { name: 'size', doc: 'Size of the block device (bytes, or with a K/M/G/T suffix).' },
  { name: 'block_size', doc: 'Block size of the block device.' },
];
const VG_PARAMS: ParamDoc[] = [
  { name: 'name', doc: 'Name of the volume group.' },
  { name: 'uuid', doc: 'UUID of the volume group (generated when omitted).' },
  { name: 'block_devices', doc: 'Block devices (ids) to add to the volume group; repeat for several.' },
  { name: 'partitions', doc: 'Partitions (ids) to add to the volume group; repeat for several.' },
];

/** nodes/{system_id}/blockdevices/, partitions and volume-groups (reference 2.6; MAAS api/blockdevices.py, partitions.py, volume_groups.py). */
@Injectable()
export class StorageApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: StorageService,
  ) {}

  private async device(r: ApiRequest, rawId = r.pathParams.id) {
    const v = await this.svc.view(sid(r), actor(r));
    return v.deviceJson(this.svc.device(v, rawId));
  }

  private async partition(r: ApiRequest, rawId = r.pathParams.id) {
    const v = await this.svc.view(sid(r), actor(r));
    return v.partitionJson(this.svc.partition(v, this.svc.device(v, r.pathParams.device_id), rawId));
  }

  private async volumeGroup(r: ApiRequest, rawId = r.pathParams.id) {
    const v = await this.svc.view(sid(r), actor(r));
    return v.volumeGroupJson(this.svc.volumeGroup(v, rawId));
  }

  private deviceActions(): ActionDef[] {
    const id = (r: ApiRequest) => r.pathParams.id;
    const after = (fn: (r: ApiRequest) => Promise<unknown>) => async (r: ApiRequest) => {
      await fn(r);
      return this.device(r);
    };
    return [
      { name: 'read', op: null, method: 'GET', title: 'Read a block device', run: (r) => this.device(r) },
      {
        name: 'update',
        op: null,
        method: 'PUT',
        title: 'Update a block device',
        description: 'Ready machines: every field; Deployed machines: name, model, serial and id_path of a physical device. Virtual devices: name, uuid and (logical volumes) size.',
        permission: 'admin',
        params: [...PHYSICAL_PARAMS, { name: 'uuid', doc: '(Virtual devices) UUID of the block device.' }],
        run: after((r) => this.svc.updateDevice(sid(r), id(r), form(r.params, ['name', 'model', 'serial', 'id_path', 'size', 'block_size', 'uuid']), actor(r))),
      },
      {
        name: 'delete',
        op: null,
        method: 'DELETE',
        title: 'Delete a block device',
        description: 'The machine must be Ready.',
        permission: 'admin',
        run: async (r) => {
          await this.svc.deleteDevice(sid(r), id(r), actor(r));
          return ApiResponse.noContent();
        },
      },
      { name: 'add_tag', op: 'add_tag', method: 'POST', title: 'Add a tag', permission: 'admin', params: TAG_PARAMS, run: after((r) => this.svc.deviceTag(sid(r), id(r), r.params.get('tag'), true, actor(r))) },
      { name: 'remove_tag', op: 'remove_tag', method: 'POST', title: 'Remove a tag', permission: 'admin', params: TAG_PARAMS, run: after((r) => this.svc.deviceTag(sid(r), id(r), r.params.get('tag'), false, actor(r))) },
      {
        name: 'format',
        op: 'format',
        method: 'POST',
        title: 'Format block device',
        description: 'The machine must be Ready (administrators) or Allocated (its owner).',
        params: FORMAT_PARAMS,
        run: after((r) => this.svc.formatDevice(sid(r), id(r), form(r.params, ['fstype', 'uuid', 'label']), actor(r))),
      },
      { name: 'unformat', op: 'unformat', method: 'POST', title: 'Unformat a block device', run: after((r) => this.svc.unformatDevice(sid(r), id(r), actor(r))) },
      {
        name: 'mount',
        op: 'mount',
        method: 'POST',
        title: 'Mount a filesystem',
        params: MOUNT_PARAMS,
        run: after((r) => this.svc.mountDevice(sid(r), id(r), form(r.params, ['mount_point', 'mount_options']), actor(r))),
      },
      { name: 'unmount', op: 'unmount', method: 'POST', title: 'Unmount a filesystem', run: after((r) => this.svc.unmountDevice(sid(r), id(r), actor(r))) },
      {
        name: 'set_boot_disk',
        op: 'set_boot_disk',
        method: 'POST',
        title: 'Set the boot disk',
        description: 'Set a physical block device as the boot disk of a Ready machine.',
        permission: 'admin',
        run: async (r) => {
          await this.svc.setBootDisk(sid(r), id(r), actor(r));
          return 'OK';
        },
      },
    ];
  }

  private partitionActions(): ActionDef[] {
    const dev = (r: ApiRequest) => r.pathParams.device_id;
    const id = (r: ApiRequest) => r.pathParams.id;
    const after = (fn: (r: ApiRequest) => Promise<unknown>) => async (r: ApiRequest) => {
      await fn(r);
      return this.partition(r);
    };
    return [
      { name: 'read', op: null, method: 'GET', title: 'Read a partition', run: (r) => this.partition(r) },
      {
        name: 'delete',
        op: null,
        method: 'DELETE',
        title: 'Delete a partition',
        run: async (r) => {
          await this.svc.deletePartition(sid(r), dev(r), id(r), actor(r));
          return ApiResponse.noContent();
        },
      },
      { name: 'add_tag', op: 'add_tag', method: 'POST', title: 'Add a tag', params: TAG_PARAMS, run: after((r) => this.svc.partitionTag(sid(r), dev(r), id(r), r.params.get('tag'), true, actor(r))) },
      { name: 'remove_tag', op: 'remove_tag', method: 'POST', title: 'Remove a tag', params: TAG_PARAMS, run: after((r) => this.svc.partitionTag(sid(r), dev(r), id(r), r.params.get('tag'), false, actor(r))) },
      {
        name: 'format',
        op: 'format',
        method: 'POST',
        title: 'Format a partition',
        params: FORMAT_PARAMS,
        run: after((r) => this.svc.formatPartition(sid(r), dev(r), id(r), form(r.params, ['fstype', 'uuid', 'label']), actor(r))),
      },
      { name: 'unformat', op: 'unformat', method: 'POST', title: 'Unformat a partition', run: after((r) => this.svc.unformatPartition(sid(r), dev(r), id(r), actor(r))) },
      {
        name: 'mount',
        op: 'mount',
        method: 'POST',
        title: 'Mount a filesystem',
        params: MOUNT_PARAMS,
        run: after((r) => this.svc.mountPartition(sid(r), dev(r), id(r), form(r.params, ['mount_point', 'mount_options']), actor(r))),
      },
      { name: 'unmount', op: 'unmount', method: 'POST', title: 'Unmount a filesystem', run: after((r) => this.svc.unmountPartition(sid(r), dev(r), id(r), actor(r))) },
    ];
  }

  private volumeGroupActions(): ActionDef[] {
    const id = (r: ApiRequest) => r.pathParams.id;
    return [
      { name: 'read', op: null, method: 'GET', title: 'Read a volume group', run: (r) => this.volumeGroup(r) },
      {
        name: 'update',
        op: null,
        method: 'PUT',
        title: 'Update a volume group',
        permission: 'admin',
        params: [
          { name: 'name', doc: 'Name of the volume group.' },
          { name: 'uuid', doc: 'UUID of the volume group.' },
          { name: 'add_block_devices', doc: 'Block devices (ids) to add to the volume group.' },
          { name: 'add_partitions', doc: 'Partitions (ids) to add to the volume group.' },
          { name: 'remove_block_devices', doc: 'Block devices (ids) to remove from the volume group.' },
          { name: 'remove_partitions', doc: 'Partitions (ids) to remove from the volume group.' },
        ],
        run: async (r) => {
          await this.svc.updateVolumeGroup(sid(r), id(r), form(r.params, ['name', 'uuid']), { devices: r.params.getAll('add_block_devices'), partitions: r.params.getAll('add_partitions') }, actor(r), { devices: r.params.getAll('remove_block_devices'), partitions: r.params.getAll('remove_partitions') });
          return this.volumeGroup(r);
        },
      },
      {
        name: 'delete',
        op: null,
        method: 'DELETE',
        title: 'Delete a volume group',
        permission: 'admin',
        run: async (r) => {
          await this.svc.deleteVolumeGroup(sid(r), id(r), actor(r));
          return ApiResponse.noContent();
        },
      },
      {
        name: 'create_logical_volume',
        op: 'create_logical_volume',
        method: 'POST',
        title: 'Create a logical volume',
        permission: 'admin',
        params: [
          { name: 'name', required: true, doc: 'Name of the logical volume.' },
          { name: 'uuid', doc: 'UUID of the logical volume.' },
          { name: 'size', doc: 'Size of the logical volume (all free space when omitted).' },
        ],
        run: async (r) => {
          const v = await this.svc.createLogicalVolume(sid(r), id(r), form(r.params, ['name', 'uuid', 'size']), actor(r));
          return this.device(r, String(v));
        },
      },
      {
        name: 'delete_logical_volume',
        op: 'delete_logical_volume',
        method: 'POST',
        title: 'Delete a logical volume',
        permission: 'admin',
        params: [{ name: 'id', type: 'Int', required: true, doc: 'The logical volume id.' }],
        run: async (r) => {
          await this.svc.deleteLogicalVolume(sid(r), id(r), r.params.get('id'), actor(r));
          return ApiResponse.noContent();
        },
      },
    ];
  }

  onModuleInit() {
    const partition = {
      name: 'PartitionHandler',
      doc: 'Manage partition on block device.',
      actions: this.partitionActions(),
    };
    const volumeGroup = { name: 'VolumeGroupHandler', doc: 'Manage volume group on a machine.', actions: this.volumeGroupActions() };
    this.registry.register(
      {
        auth: {
          name: 'BlockDevicesHandler',
          doc: 'Manage block devices on a machine.',
          path: `${NODE}/blockdevices/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List block devices',
              run: async (r) => {
                const v = await this.svc.view(sid(r), actor(r));
                return v.rows.devices.map((d) => v.deviceJson(d));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a block device',
              description: 'Create a physical block device.',
              permission: 'admin',
              params: PHYSICAL_PARAMS,
              run: async (r) => this.device(r, String(await this.svc.createPhysical(sid(r), form(r.params, ['name', 'model', 'serial', 'id_path', 'size', 'block_size']), actor(r)))),
            },
          ],
        },
      },
      { auth: { name: 'BlockDeviceHandler', doc: 'Manage a block device on a machine.', path: `${NODE}/blockdevices/{id}/`, actions: this.deviceActions() } },
      {
        auth: {
          name: 'PartitionsHandler',
          doc: 'Manage partitions on a block device.',
          path: `${NODE}/blockdevices/{device_id}/partitions/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List partitions',
              run: async (r) => {
                const v = await this.svc.view(sid(r), actor(r));
                return v.partitionsOf(this.svc.device(v, r.pathParams.device_id).id).map((p) => v.partitionJson(p));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a partition',
              description: 'Sizes are aligned up to 4 MiB; without a size the partition takes the rest of the device.',
              params: [
                { name: 'size', doc: 'The size of the partition (all free space when omitted).' },
                { name: 'uuid', doc: 'UUID for the partition.' },
                { name: 'bootable', type: 'Boolean', doc: 'Whether the partition is bootable.' },
              ],
              run: async (r) => this.partition(r, String(await this.svc.createPartition(sid(r), r.pathParams.device_id, form(r.params, ['size', 'uuid', 'bootable']), actor(r)))),
            },
          ],
        },
      },
      { auth: { ...partition, path: `${NODE}/blockdevices/{device_id}/partition/{id}` } },
      { auth: { ...partition, path: `${NODE}/blockdevices/{device_id}/partitions/{id}/`, alias: true } },
      {
        auth: {
          name: 'VolumeGroupsHandler',
          doc: 'Manage volume groups on a machine.',
          path: `${NODE}/volume-groups/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all volume groups',
              run: async (r) => {
                const v = await this.svc.view(sid(r), actor(r));
                return v.rows.groups.filter((g) => g.group_type === 'lvm-vg').map((g) => v.volumeGroupJson(g));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a volume group',
              description: 'The machine must be Ready; every block device and partition given must be unused.',
              permission: 'admin',
              params: VG_PARAMS,
              run: async (r) =>
                this.volumeGroup(r, String(await this.svc.createVolumeGroup(sid(r), form(r.params, ['name', 'uuid']), r.params.getAll('block_devices'), r.params.getAll('partitions'), actor(r)))),
            },
          ],
        },
      },
      { auth: { ...volumeGroup, path: `${NODE}/volume-group/{id}/` } },
      { auth: { ...volumeGroup, path: `${NODE}/volume-groups/{id}/`, alias: true } },
      ...this.groupResources(),
    );
  }

  /** raids/, raid/{id}/, bcaches/, bcache/{id}/, bcache-cache-sets/, bcache-cache-set/{id}/ (MAAS api/raid.py, bcache.py, bcache_cacheset.py). */
  private groupResources() {
    const view = (r: ApiRequest) => this.svc.view(sid(r), actor(r));
    const raid = async (r: ApiRequest, rawId = r.pathParams.id) => {
      const v = await view(r);
      return v.raidJson(this.svc.raid(v, rawId));
    };
    const bcache = async (r: ApiRequest, rawId = r.pathParams.id) => {
      const v = await view(r);
      return v.bcacheJson(this.svc.bcache(v, rawId));
    };
    const cacheSet = async (r: ApiRequest, rawId = r.pathParams.id) => {
      const v = await view(r);
      return v.cacheSetJson(this.svc.cacheSet(v, rawId).id);
    };
    const del = (fn: (r: ApiRequest) => Promise<void>): ActionDef => ({
      name: 'delete',
      op: null,
      method: 'DELETE',
      title: 'Delete',
      description: 'The machine must be Ready.',
      permission: 'admin',
      run: async (r) => {
        await fn(r);
        return ApiResponse.noContent();
      },
    });
    const nameParams: ParamDoc[] = [
      { name: 'name', doc: 'Name of the device.' },
      { name: 'uuid', doc: 'UUID of the device.' },
    ];
    return [
      {
        auth: {
          name: 'RaidsHandler',
          doc: 'Manage all RAIDs (Redundant Array of Independent Disks) on a machine.',
          path: `${NODE}/raids/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'List all RAIDs', run: async (r: ApiRequest) => { const v = await view(r); return v.rows.groups.filter((g) => g.group_type.startsWith('raid-')).map((g) => v.raidJson(g)); } },
            {
              name: 'create',
              op: null,
              method: 'POST' as const,
              title: 'Set up a RAID',
              description: 'The machine must be Ready; members must be unused.',
              permission: 'admin' as const,
              params: [
                { name: 'name', doc: 'Name of the RAID (md<n> when omitted).' },
                { name: 'uuid', doc: 'UUID of the RAID.' },
                { name: 'level', required: true, doc: 'RAID level: raid-0, raid-1, raid-5, raid-6 or raid-10.' },
                { name: 'block_devices', doc: 'Block devices (ids) to add to the RAID.' },
                { name: 'partitions', doc: 'Partitions (ids) to add to the RAID.' },
                { name: 'spare_devices', doc: 'Spare block devices (ids) to add to the RAID.' },
                { name: 'spare_partitions', doc: 'Spare partitions (ids) to add to the RAID.' },
              ],
              run: async (r: ApiRequest) => {
                const lists = { block_devices: r.params.getAll('block_devices'), partitions: r.params.getAll('partitions'), spare_devices: r.params.getAll('spare_devices'), spare_partitions: r.params.getAll('spare_partitions') };
                return raid(r, String(await this.svc.createRaid(sid(r), form(r.params, ['name', 'uuid', 'level']), lists, actor(r))));
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'RaidHandler',
          doc: 'Manage a specific RAID (Redundant Array of Independent Disks) on a machine.',
          path: `${NODE}/raid/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'Read a RAID', run: (r: ApiRequest) => raid(r) },
            {
              name: 'update',
              op: null,
              method: 'PUT' as const,
              title: 'Update a RAID',
              description: 'Renames the RAID or changes its UUID; changing members is not supported yet.',
              permission: 'admin' as const,
              params: nameParams,
              run: async (r: ApiRequest) => {
                await this.svc.updateGroupName(sid(r), r.pathParams.id, 'raid', form(r.params, ['name', 'uuid']), actor(r));
                return raid(r);
              },
            },
            del((r) => this.svc.deleteGroupOf(sid(r), r.pathParams.id, 'raid', actor(r))),
          ],
        },
      },
      {
        auth: {
          name: 'BcachesHandler',
          doc: 'Manage bcache devices on a machine.',
          path: `${NODE}/bcaches/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'List all bcache devices', run: async (r: ApiRequest) => { const v = await view(r); return v.rows.groups.filter((g) => g.group_type === 'bcache').map((g) => v.bcacheJson(g)); } },
            {
              name: 'create',
              op: null,
              method: 'POST' as const,
              title: 'Creates a bcache',
              permission: 'admin' as const,
              params: [
                { name: 'name', doc: 'Name of the Bcache (bcache<n> when omitted).' },
                { name: 'uuid', doc: 'UUID of the Bcache.' },
                { name: 'cache_set', required: true, doc: 'Cache set (id or name).' },
                { name: 'backing_device', doc: 'Backing block device (id).' },
                { name: 'backing_partition', doc: 'Backing partition (id).' },
                { name: 'cache_mode', required: true, doc: 'Cache mode: writeback, writethrough or writearound.' },
              ],
              run: async (r: ApiRequest) =>
                bcache(r, String(await this.svc.createBcache(sid(r), form(r.params, ['name', 'uuid', 'cache_set', 'backing_device', 'backing_partition', 'cache_mode']), actor(r)))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'BcacheHandler',
          doc: 'Manage bcache device on a machine.',
          path: `${NODE}/bcache/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'Read a bcache device', run: (r: ApiRequest) => bcache(r) },
            {
              name: 'update',
              op: null,
              method: 'PUT' as const,
              title: 'Update a bcache',
              description: 'Renames the bcache, changes its UUID or cache mode; changing its devices is not supported yet.',
              permission: 'admin' as const,
              params: [...nameParams, { name: 'cache_mode', doc: 'Cache mode: writeback, writethrough or writearound.' }],
              run: async (r: ApiRequest) => {
                await this.svc.updateGroupName(sid(r), r.pathParams.id, 'bcache', form(r.params, ['name', 'uuid', 'cache_mode']), actor(r));
                return bcache(r);
              },
            },
            del((r) => this.svc.deleteGroupOf(sid(r), r.pathParams.id, 'bcache', actor(r))),
          ],
        },
      },
      {
        auth: {
          name: 'BcacheCacheSetsHandler',
          doc: 'Manage bcache cache sets on a machine.',
          path: `${NODE}/bcache-cache-sets/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'List all bcache cache sets', run: async (r: ApiRequest) => { const v = await view(r); return v.rows.cacheSets.map((c) => v.cacheSetJson(c.id)); } },
            {
              name: 'create',
              op: null,
              method: 'POST' as const,
              title: 'Creates a bcache cache set',
              permission: 'admin' as const,
              params: [
                { name: 'cache_device', doc: 'Cache block device (id).' },
                { name: 'cache_partition', doc: 'Cache partition (id).' },
              ],
              run: async (r: ApiRequest) => cacheSet(r, String(await this.svc.createCacheSet(sid(r), form(r.params, ['cache_device', 'cache_partition']), actor(r)))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'BcacheCacheSetHandler',
          doc: 'Manage bcache cache set on a machine.',
          path: `${NODE}/bcache-cache-set/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET' as const, title: 'Read a bcache cache set', run: (r: ApiRequest) => cacheSet(r) },
            del((r) => this.svc.deleteCacheSet(sid(r), r.pathParams.id, actor(r))),
          ],
        },
      },
    ];
  }
}
