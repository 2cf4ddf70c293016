import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { deviceJson } from './device.serializer';
import { DeviceRow } from './devices.repository';
import { DeviceInput, DevicesService } from './devices.service';

const API = '/MAAS/api/2.0';

const DEVICE_PARAMS: ParamDoc[] = [
  { name: 'hostname', doc: 'A hostname. If not given, one will be generated.' },
  { name: 'description', doc: 'A optional description.' },
  { name: 'domain', doc: 'The domain of the device. If not given the default domain is used.' },
  { name: 'parent', doc: 'The system id of the parent. Optional.' },
  { name: 'zone', doc: 'Name of a valid physical zone in which to place this device.' },
];

function input(r: ApiRequest, withMacs: boolean): DeviceInput {
  const out: DeviceInput = {};
  for (const f of ['hostname', 'description', 'domain', 'zone', 'parent'] as const) {
    const v = r.params.get(f);
    if (v !== undefined) out[f] = v;
  }
  if (withMacs) out.mac_addresses = r.params.getAll('mac_addresses');
  return out;
}

const annotations = (r: ApiRequest): [string, string][] => r.params.names().filter((k) => k !== 'op').map((k) => [k, r.params.get(k) ?? '']);

/** devices/ and devices/{system_id}/ (reference 2.6; MAAS's DevicesHandler and DeviceHandler). */
@Injectable()
export class DevicesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: DevicesService,
  ) {}

  private async json(rows: DeviceRow[]) {
    const interfaces = await this.svc.interfaces(rows.map((d) => d.id));
    return rows.map((d) => deviceJson(d, interfaces));
  }

  private async one(d: DeviceRow) {
    return (await this.json([d]))[0];
  }

  onModuleInit() {
    const sid = (r: ApiRequest) => r.pathParams.system_id;
    this.registry.register(
      {
        auth: {
          name: 'DevicesHandler',
          doc: 'Manage devices.',
          path: `${API}/devices/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List Nodes visible to the user',
              description: 'The devices the user owns and those without an owner (administrators: every device), optionally filtered.',
              params: [
                { name: 'hostname', doc: 'Only nodes relating to the node with the matching hostname (repeatable).' },
                { name: 'mac_address', doc: 'Only nodes relating to the node owning the specified MAC address (repeatable).' },
                { name: 'id', doc: 'Only nodes relating to the nodes with matching system ids (repeatable).' },
                { name: 'domain', doc: 'Only nodes relating to the nodes in the domain (repeatable).' },
                { name: 'zone', doc: 'Only nodes relating to the nodes in the zone (repeatable).' },
              ],
              run: async (r) => this.json(await this.svc.list(r.params, r.user!)),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a new device',
              description: 'The device is owned by whoever creates it.',
              params: [{ name: 'mac_addresses', required: true, doc: 'One or more MAC addresses for the device.' }, ...DEVICE_PARAMS],
              run: async (r) => this.one(await this.svc.create(input(r, true), r.user!)),
            },
            {
              name: 'is_registered',
              op: 'is_registered',
              method: 'GET',
              title: 'MAC address registered',
              description: 'Whether a device has the given MAC address.',
              params: [{ name: 'mac_address', required: true, doc: 'The MAC address to be checked.' }],
              run: (r) => this.svc.isRegistered(r.params.get('mac_address')),
            },
            {
              name: 'set_zone',
              op: 'set_zone',
              method: 'POST',
              title: 'Assign nodes to a zone',
              permission: 'admin',
              params: [
                { name: 'zone', required: true, doc: 'Zone name.' },
                { name: 'nodes', required: true, doc: 'system_ids of the devices whose zones are to be set.' },
              ],
              run: async (r) => {
                await this.svc.setZone(r.params.get('zone'), r.params.getAll('nodes'));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'DeviceHandler',
          doc: 'Manage an individual device.',
          path: `${API}/devices/{system_id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a node', run: async (r) => this.one(await this.svc.get(sid(r), r.user!)) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a device',
              description: 'Only the owner of the device or an administrator may change it.',
              params: DEVICE_PARAMS,
              run: async (r) => this.one(await this.svc.update(sid(r), input(r, false), r.user!)),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a device',
              run: async (r) => {
                await this.svc.delete(sid(r), r.user!);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'set_workload_annotations',
              op: 'set_workload_annotations',
              method: 'POST',
              title: 'Set key=value data',
              description: 'Set key=value data for the current owner. Pass any key=value form data; an empty value deletes the key.',
              params: [{ name: 'key', doc: 'key can be any string value.' }],
              run: async (r) => this.one(await this.svc.setOwnerData(sid(r), annotations(r), r.user!)),
            },
            {
              name: 'set_owner_data',
              op: 'set_owner_data',
              method: 'POST',
              title: 'Deprecated, use set-workload-annotations.',
              params: [{ name: 'key', doc: 'key can be any string value.' }],
              run: async (r) => this.one(await this.svc.setOwnerData(sid(r), annotations(r), r.user!)),
            },
            {
              name: 'restore_networking_configuration',
              op: 'restore_networking_configuration',
              method: 'POST',
              title: 'Reset networking options',
              description: "Restores the device's interfaces to one physical interface per MAC address.",
              run: async (r) => this.one(await this.svc.restoreNetworking(sid(r), r.user!)),
            },
            {
              name: 'restore_default_configuration',
              op: 'restore_default_configuration',
              method: 'POST',
              title: 'Reset device configuration',
              description: "Restores the device's configuration to default settings (its networking).",
              run: async (r) => this.one(await this.svc.restoreNetworking(sid(r), r.user!)),
            },
          ],
        },
      },
    );
  }
}
