import { Injectable } from '@nestjs/common';
import type { RackControllerEntity } from '@kiln/db';
import type { Actor } from '../common/actor';
import { forbidden, notFound } from '../common/domain.error';
import type { ParamBag } from '../common/param-bag';
import { DevicesService, DEVICE_FILTERS } from '../devices/devices.service';
import type { DeviceRow } from '../devices/devices.repository';
import { MachineEditingService } from '../machines/machine-editing.service';
import { MachineListingService } from '../machines/machine-listing.service';
import type { MachineRecord } from '../machines/machines.repository';
import { RacksService } from '../racks/racks.service';
import type { RegionRow } from '../region-controllers/region-controllers.repository';
import { RegionControllersService } from '../region-controllers/region-controllers.service';
import { NodeKind, NodesRepository } from './nodes.repository';

export type AnyNode =
  | { kind: 'machine'; machine: MachineRecord }
  | { kind: 'device'; device: DeviceRow }
  | { kind: 'rack'; rack: RackControllerEntity }
  | { kind: 'region'; region: RegionRow };

export interface NodeListing {
  machinesJson: Buffer[];
  devices: DeviceRow[];
  racks: RackControllerEntity[];
  regions: RegionRow[];
}

/**
 * nodes/: every kind of node in one view (machines, devices, rack and region controllers), each
 * shown as its own handler shows it, as MAAS does. Filters that only machines have list machines only.
 */
@Injectable()
export class NodesService {
  constructor(
    private readonly repo: NodesRepository,
    private readonly machines: MachineListingService,
    private readonly machineEditing: MachineEditingService,
    private readonly devices: DevicesService,
    private readonly racks: RacksService,
    private readonly regions: RegionControllersService,
  ) {}

  private async kind(systemId: string): Promise<NodeKind> {
    const k = await this.repo.kindOf(systemId);
    if (!k) throw notFound('No Node matches the given query.');
    return k;
  }

  async get(systemId: string, actor: Actor): Promise<AnyNode> {
    switch (await this.kind(systemId)) {
      case 'machine':
        return { kind: 'machine', machine: await this.machines.get(systemId, actor) };
      case 'device':
        return { kind: 'device', device: await this.devices.get(systemId, actor) };
      case 'rack':
        return { kind: 'rack', rack: await this.racks.get(systemId) };
      case 'region':
        return { kind: 'region', region: await this.regions.get(systemId) };
    }
  }

  /** Deletes the node as its own handler would; controllers and machines need an administrator. */
  async delete(systemId: string, actor: Actor, force: boolean): Promise<void> {
    const kind = await this.kind(systemId);
    if (kind === 'device') return this.devices.delete(systemId, actor);
    if (!actor.isAdmin) throw forbidden('You do not have permission to delete this node.');
    if (kind === 'machine') return this.machineEditing.delete(systemId, actor, force);
    if (kind === 'rack') return this.racks.delete(systemId, actor.username);
    return this.regions.delete(systemId);
  }

  async list(params: ParamBag, actor: Actor): Promise<NodeListing> {
    const machinesJson = await this.machines.listJson(params, actor);
    const names = params.names().filter((n) => n !== 'op');
    if (names.some((n) => !(DEVICE_FILTERS as readonly string[]).includes(n))) return { machinesJson, devices: [], racks: [], regions: [] };
    const devices = await this.devices.list(params, actor);
    // Controllers have no domain, zone filter or MAC listing here: only id and hostname select them.
    if (names.some((n) => n !== 'id' && n !== 'hostname')) return { machinesJson, devices, racks: [], regions: [] };
    const keep = (systemId: string, hostname: string) =>
      (!params.has('id') || params.getAll('id').includes(systemId)) && (!params.has('hostname') || params.getAll('hostname').includes(hostname));
    const racks = (await this.racks.list()).filter((r) => keep(r.systemId, r.hostname));
    const regions = (await this.regions.list()).filter((r) => keep(r.system_id, r.hostname));
    return { machinesJson, devices, racks, regions };
  }
}
