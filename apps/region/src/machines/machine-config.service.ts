import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { type MachineEntity, type MachineStorageLayout, type SpecialFilesystem } from '@kiln/db';
import { NodeStatus } from '@kiln/lifecycle';
import { CommissioningInventoryService } from '../commissioning/commissioning-inventory.service';
import type { Actor } from '../common/actor';
import { conflict, invalid, notFound } from '../common/domain.error';
import { MachineEvents, type MachineEventType } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { encodeBson } from './bson.encoder';
import { bootImagePath, ROOT_IMAGE_FILE } from '@kiln/contracts';
import { BootResourcesService } from '../boot-resources/boot-resources.service';
import { type CurtinInterface, type CurtinMachine, curtinConfigYaml, type InstallerImage, renderInstallerConfig } from './curtin-config.renderer';
import { ScriptRunsRepository } from '../scripts/script-runs.repository';
import { StorageService } from '../storage/storage.service';
import { machineStorageView } from './machine.serializer';
import { MachineAccess } from './machine.access';
import { MachineListingService } from './machine-listing.service';
import { type MachineRecord, MachinesRepository } from './machines.repository';
import { type LayoutDevice, type ParamReader, validateStorageLayout } from './storage-layout.validator';

const SPECIAL_FSTYPES: readonly SpecialFilesystem['fstype'][] = ['tmpfs', 'ramfs'];
const MAX_PATH = 4095;

/** What a change wrote, for the machine's event log (null: nothing to log). */
type ChangeEvent = { type: MachineEventType; description: string } | null;

/** A special filesystem to mount (values as sent). */
export interface MountSpecialInput {
  fstype?: string;
  mountPoint?: string;
  /** MAAS documents mount_option and reads mount_options; the API passes whichever was sent. */
  mountOptions?: string;
}

/**
 * A machine's deployment configuration that is not its lifecycle: storage layout, special
 * filesystems, the restore_* operations, and what deployment renders from them (curtin config),
 * plus the read-only details/get_token. Preconditions, status codes and bodies are MAAS's
 * (machines.py MachineHandler); each change is one transaction on the locked machine row with
 * an event saying what changed.
 */
@Injectable()
export class MachineConfigService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: MachinesRepository,
    private readonly events: EventsRepository,
    private readonly listing: MachineListingService,
    private readonly access: MachineAccess,
    private readonly inventory: CommissioningInventoryService,
    private readonly runs: ScriptRunsRepository,
    private readonly storage: StorageService,
    private readonly images: BootResourcesService,
  ) {}

  // ---- storage ------------------------------------------------------------------------------

  async setStorageLayout(systemId: string, read: ParamReader, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'admin', async (m, rec, em) => {
      if (m.status !== NodeStatus.READY) throw conflict('Cannot change the storage layout on a machine that is not Ready.');
      const physical = rec.blockDevices.filter((b) => b.type === 'physical');
      const devices: LayoutDevice[] = physical.map((b) => ({ id: b.id, name: b.name, size: Number(b.size), tags: b.tags ?? [] }));
      const bootRow = physical.find((b) => b.is_boot) ?? physical[0];
      const bootDisk = bootRow ? devices.find((d) => d.id === bootRow.id)! : null;
      const layout = validateStorageLayout(read, devices, bootDisk);
      m.storageLayout = layout;
      await this.storage.applyLayout(em, { id: m.id, architecture: m.architecture, bios_boot_method: m.biosBootMethod }, layout);
      return { type: MachineEvents.STORAGE_LAYOUT_SET.type, description: `Storage layout set to ${describeLayout(layout, devices)} by ${user.username}` };
    });
  }

  async mountSpecial(systemId: string, input: MountSpecialInput, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'edit', async (m) => {
      if (m.status !== NodeStatus.READY && m.status !== NodeStatus.ALLOCATED) {
        throw conflict('Cannot mount the filesystem because the machine is not Ready or Allocated.');
      }
      const errors: Record<string, string[]> = {};
      const fstype = input.fstype?.trim() ?? '';
      if (fstype === '') errors.fstype = ['This field is required.'];
      else if (!(SPECIAL_FSTYPES as readonly string[]).includes(fstype)) {
        errors.fstype = [`Select a valid choice. ${fstype} is not one of the available choices.`];
      }
      const mountPoint = absolutePath(input.mountPoint, errors);
      const options = (input.mountOptions ?? '').trim();
      const mounts = m.specialFilesystems ?? [];
      if (mountPoint !== null && mounts.some((f) => f.mount_point === mountPoint)) {
        // MAAS would store a second filesystem there (and fail to unmount either); Kiln refuses.
        errors.mount_point = ['A special filesystem is already mounted at this path.'];
      }
      if (Object.keys(errors).length) throw invalid(errors);
      m.specialFilesystems = [
        ...mounts,
        {
          fstype: fstype as SpecialFilesystem['fstype'],
          mount_point: mountPoint!,
          mount_options: options,
          uuid: randomUUID(),
          acquired: m.ownerId !== null,
        },
      ];
      return {
        type: MachineEvents.FILESYSTEM_MOUNTED.type,
        description: `${fstype} mounted at ${mountPoint}${options ? ` (${options})` : ''} by ${user.username}`,
      };
    });
  }

  async unmountSpecial(systemId: string, mountPointRaw: string | undefined, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'edit', async (m) => {
      if (m.status !== NodeStatus.READY && m.status !== NodeStatus.ALLOCATED) {
        throw conflict('Cannot unmount the filesystem because the machine is not Ready or Allocated.');
      }
      const errors: Record<string, string[]> = {};
      const mountPoint = absolutePath(mountPointRaw, errors);
      const mounts = m.specialFilesystems ?? [];
      const found = mounts.find((f) => f.mount_point === mountPoint);
      if (mountPoint !== null && !found) errors.mount_point = ['No special filesystem is mounted at this path.'];
      if (Object.keys(errors).length) throw invalid(errors);
      m.specialFilesystems = mounts.filter((f) => f !== found);
      return { type: MachineEvents.FILESYSTEM_UNMOUNTED.type, description: `${found!.fstype} unmounted from ${mountPoint} by ${user.username}` };
    });
  }

  // ---- restore ------------------------------------------------------------------------------

  async restoreStorage(systemId: string, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'admin', async (m) => {
      this.requireRestorable(m, 'Machine must be in a ready or failed testing state to restore storage configuration.');
      return { type: MachineEvents.STORAGE_CONFIGURATION_RESTORED.type, description: `${this.resetStorage(m)} by ${user.username}` };
    });
  }

  async restoreNetworking(systemId: string, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'admin', async (m, _rec, em) => {
      this.requireRestorable(m, 'Machine must be in a ready or failed testing state to restore networking configuration');
      const restored = networkingRestored(await this.repo.resetNetworking(em, m.id));
      return { type: MachineEvents.NETWORKING_CONFIGURATION_RESTORED.type, description: `${restored} (by ${user.username})` };
    });
  }

  async restoreDefault(systemId: string, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'admin', async (m, _rec, em) => {
      this.requireRestorable(m, 'Machine must be in a ready or failed testing state to restore default networking and storage configuration.');
      const restored = networkingRestored(await this.repo.resetNetworking(em, m.id));
      return {
        type: MachineEvents.DEFAULT_CONFIGURATION_RESTORED.type,
        description: `${this.resetStorage(m)}; ${restored.charAt(0).toLowerCase()}${restored.slice(1)} (by ${user.username})`,
      };
    });
  }

  /** MAAS forgets the chosen default gateway links (set_default_gateway, link_subnet default_gateway). */
  async clearDefaultGateways(systemId: string, user: Actor): Promise<MachineRecord> {
    return this.change(systemId, user, 'admin', async (m, _rec, em) => {
      await this.repo.clearDefaultGateways(em, m.id);
      return null;
    });
  }

  // ---- reads --------------------------------------------------------------------------------

  /** The curtin configuration deployment uses, as YAML text. */
  async curtinConfig(systemId: string, user: Actor): Promise<string> {
    const rec = await this.listing.get(systemId, user);
    const r = rec.row;
    if (!([NodeStatus.DEPLOYING, NodeStatus.DEPLOYED, NodeStatus.FAILED_DEPLOYMENT] as number[]).includes(r.status)) {
      throw invalid(`Machine ${r.hostname} is not in a deployment state.`);
    }
    return curtinConfigYaml(curtinMachine(rec), { systemId: r.system_id, origin: null, image: await this.imageOf(rec), credentials: null });
  }

  /**
   * What the installer of a Deploying machine reads (renderInstallerConfig): its storage and
   * network, the image of its release on the rack it booted from (`origin`), and the node's
   * credentials. null: the machine is not Deploying to disk. The release's image is missing:
   * a 400 that names it (deploy checked it, but it may have been deleted since).
   */
  async installerConfig(
    systemId: string,
    origin: string,
    credentials: { consumerKey: string; tokenKey: string; tokenSecret: string },
  ): Promise<Record<string, unknown> | null> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec || rec.row.status !== NodeStatus.DEPLOYING || rec.row.ephemeral_deploy) return null;
    const image = await this.imageOf(rec);
    if (!image) throw invalid(`The region has no ${rec.row.osystem}/${rec.row.distro_series} image for ${rec.row.architecture}.`);
    return renderInstallerConfig(curtinMachine(rec), { systemId: rec.row.system_id, origin, image, credentials }) as Record<string, unknown>;
  }

  private async imageOf(rec: MachineRecord): Promise<InstallerImage | null> {
    const r = rec.row;
    if (!r.osystem || !r.distro_series) return null;
    const image = await this.images.deployableImage(r.osystem, r.distro_series, r.architecture || 'amd64/generic');
    return image ? { path: bootImagePath(image, ROOT_IMAGE_FILE), sha256: image.file.sha256, size: image.file.size } : null;
  }

  /** The lshw and LLDP XML commissioning last reported, as MAAS's BSON `{lshw, lldp}` (null for what is missing). */
  async details(systemId: string, user: Actor): Promise<Buffer> {
    const rec = await this.listing.get(systemId, user);
    const { lshw, lldp } = await this.inventory.details(rec.row.id);
    return encodeBson({ lshw, lldp });
  }

  /** The machine's live node token (metadata API credentials), or null when it has none, as MAAS answers. */
  async token(systemId: string, user: Actor): Promise<{ token_key: string; token_secret: string; consumer_key: string } | null> {
    const rec = await this.listing.get(systemId, user);
    const t = await this.runs.liveToken(this.runs.manager(), rec.row.id);
    return t ? { token_key: t.token_key, token_secret: t.token_secret, consumer_key: t.consumer_key } : null;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private requireRestorable(m: MachineEntity, message: string): void {
    if (m.status !== NodeStatus.READY && m.status !== NodeStatus.FAILED_TESTING) throw conflict(message);
  }

  /** Back to the default layout with no special filesystems; says what was dropped. */
  private resetStorage(m: MachineEntity): string {
    const dropped: string[] = [];
    if (m.storageLayout) dropped.push(`the '${m.storageLayout.layout}' layout`);
    const mounts = m.specialFilesystems ?? [];
    if (mounts.length) dropped.push(`${mounts.length} special filesystem${mounts.length === 1 ? '' : 's'} (${mounts.map((f) => f.mount_point).join(', ')})`);
    m.storageLayout = null;
    m.specialFilesystems = [];
    return `Storage configuration restored to the default flat layout${dropped.length ? `, dropping ${dropped.join(' and ')}` : ' (nothing had been changed)'}`;
  }

  /**
   * One change on the locked machine row: 404 when it does not exist, 403 for a caller without
   * edit rights (another user's machine) or on a locked machine, as MAAS's permission checks do
   * before any state check. Saves the row and the event together.
   */
  private async change(
    systemId: string,
    user: Actor,
    permission: 'edit' | 'admin',
    fn: (m: MachineEntity, rec: MachineRecord, em: EntityManager) => Promise<ChangeEvent>,
  ): Promise<MachineRecord> {
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, systemId);
      if (!m) throw notFound('No Machine matches the given query.');
      // 'admin' changes are admin-only actions in the API: the dispatcher refused anyone else.
      if (permission === 'edit') this.access.require(user, 'edit', m);
      this.access.requireUnlocked(m);
      const rec = (await this.repo.findBySystemId(systemId, em))!;
      const event = await fn(m, rec, em);
      if (!event) return;
      await this.repo.save(em, m);
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          type: event.type,
          level: 'DEBUG',
          description: event.description,
          username: user.username,
        },
        em,
      );
    });
    return (await this.repo.findBySystemId(systemId))!;
  }
}

/** What restoring the networking configuration did, for the machine's event log. */
function networkingRestored(n: { interfaces: number; links: number }): string {
  const plural = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return `Networking configuration restored to the interfaces commissioning discovered, dropping ${plural(n.interfaces, 'bond, bridge or VLAN interface')} and ${plural(n.links, 'subnet link')}`;
}

/** MAAS's AbsolutePathField: required, absolute, at most 4095 characters. */
function absolutePath(raw: string | undefined, errors: Record<string, string[]>): string | null {
  const v = raw?.trim() ?? '';
  if (v === '') errors.mount_point = ['This field is required.'];
  else if (v.length > MAX_PATH) errors.mount_point = [`Ensure this value has at most ${MAX_PATH} characters (it has ${v.length}).`];
  else if (!v.startsWith('/')) errors.mount_point = ['Enter a valid value.'];
  else return v;
  return null;
}

/** 'lvm (root_device=sdb, vg_name=vg0)': the layout and the options that were given. */
function describeLayout(l: MachineStorageLayout, devices: readonly LayoutDevice[]): string {
  const name = (id: number | null | undefined) => devices.find((d) => d.id === id)?.name ?? String(id);
  const opts: string[] = [];
  for (const [k, v] of Object.entries(l)) {
    if (k === 'layout' || v === null || v === undefined || v === false) continue;
    opts.push(`${k}=${k === 'root_device' || k === 'cache_device' ? name(v as number) : String(v)}`);
  }
  return `'${l.layout}'${opts.length ? ` (${opts.join(', ')})` : ''}`;
}

/**
 * The machine's interfaces for the installer, links resolved against their subnets. The gateway
 * goes on the link chosen as default gateway for its family, else on the first AUTO or STATIC
 * link whose subnet has one (as MAAS picks a default when none was set).
 */
function curtinInterfaces(rec: MachineRecord): CurtinInterface[] {
  const subnets = rec.net?.subnets ?? new Map();
  const links = rec.interfaces.flatMap((i) => i.links ?? []);
  const gatewayLink = new Map<4 | 6, number>();
  for (const chosenFirst of [true, false]) {
    for (const l of links) {
      const sn = l.subnet_id === null ? undefined : subnets.get(l.subnet_id);
      if (!sn?.gateway_ip || (chosenFirst && !l.default_gateway) || (l.mode !== 'auto' && l.mode !== 'static')) continue;
      const family = sn.cidr.includes(':') ? 6 : 4;
      if (!gatewayLink.has(family)) gatewayLink.set(family, l.id);
    }
  }
  return rec.interfaces.map((i) => ({
    name: i.name,
    type: i.type,
    macAddress: i.mac_address,
    mtu: i.mtu,
    enabled: i.enabled,
    isBoot: i.is_boot,
    parents: i.parents ?? [],
    params: i.params ?? {},
    vid: i.vlan_id !== null && i.vlan_id !== undefined ? (rec.net?.vlans.get(i.vlan_id)?.vid ?? null) : null,
    links: (i.links ?? []).map((l) => {
      const sn = l.subnet_id === null ? undefined : subnets.get(l.subnet_id);
      const family: 4 | 6 = sn?.cidr.includes(':') ? 6 : 4;
      return {
        mode: l.mode,
        family,
        address: l.ip_address && sn ? `${l.ip_address}/${sn.cidr.split('/')[1]}` : null,
        gateway: gatewayLink.get(family) === l.id ? (sn?.gateway_ip ?? null) : null,
        dnsServers: sn?.dns_servers ?? [],
      };
    }),
  }));
}

/** The machine as the curtin renderers take it: its disks, storage model or layout, interfaces. */
export function curtinMachine(rec: MachineRecord): CurtinMachine {
  const r = rec.row;
  return {
    hostname: r.hostname,
    osystem: r.osystem,
    distroSeries: r.distro_series,
    architecture: r.architecture,
    hweKernel: r.hwe_kernel,
    biosBootMethod: r.bios_boot_method,
    swapSize: r.swap_size === null ? null : Number(r.swap_size),
    interfaces: curtinInterfaces(rec),
    disks: rec.blockDevices.map((b) => ({
      id: b.id,
      name: b.name,
      type: b.type,
      size: Number(b.size),
      model: b.model,
      serial: b.serial,
      idPath: b.id_path,
      isBoot: b.is_boot,
    })),
    storageLayout: r.storage_layout,
    specialFilesystems: r.special_filesystems ?? [],
    storageModel: machineStorageView(rec),
  };
}
