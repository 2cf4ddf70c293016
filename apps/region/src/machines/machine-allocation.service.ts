import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LifecycleEvent, NodeStatus, statusName } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { BootResourcesService } from '../boot-resources/boot-resources.service';
import { conflict, invalid } from '../common/domain.error';
import type { ParamBag } from '../common/param-bag';
import { decodeMaybeBase64, parseSeries } from '../common/values';
import { retryOnConflict } from '../database/transaction.retry';
import { ALLOCATE_CONSTRAINTS, ALLOCATE_OPTIONS, buildWhere } from './machine.filters';
import { MachineAccess } from './machine.access';
import { boolField, refuseRemovedOptions, type RemovedOptionsInput } from './machine.fields';
import { MachineLifecycleService, type Mutation } from './machine-lifecycle.service';
import { WIPE_DISKS, type RunRequest } from '../scripts/script-runs.service';
import { MachineRecord, MachinesRepository } from './machines.repository';
import { ConfigService } from '../settings/config.service';
import { matchStorage, parseStorageConstraint } from './storage.constraint';
import { assignInterfaces, parseInterfacesConstraint } from './network.constraints';
import { type LayoutDevice, layoutFitProblem } from './storage-layout.validator';
import { hweKernelProblem } from './hwe-kernel';
import { installerRefusal } from './curtin-config.renderer';
import { curtinMachine } from './machine-config.service';

/** What a deployment asks for (values as sent). */
export interface DeployInput extends RemovedOptionsInput {
  distroSeries?: string;
  hweKernel?: string;
  /** Base64 (or plain) user data. */
  userData?: string;
  agentName?: string;
  ephemeralDeploy?: string;
}

/** What a release asks for (values as sent). */
export interface ReleaseInput {
  erase?: string;
  secureErase?: string;
  quickErase?: string;
  /** Release scripts: comma-separated names and tags (`none`: none). */
  scripts?: string;
  /** Their parameters: `<param>=value` or `<script>_<param>=value`. */
  parameters?: [string, string][];
}

/** An allocated machine and, for storage and interfaces constraints, which disks and interfaces met which label. */
export interface Allocation {
  rec: MachineRecord;
  storage: Record<string, number[]> | null;
  interfaces: Record<string, number[]> | null;
}

/** Machines read at a time, and at most, when looking for one whose disks meet a storage constraint. */
const STORAGE_PAGE = 20;
const STORAGE_CANDIDATES = 200;

/** The largest user data deploy takes (decoded), as EC2's user-data limit. */
export const USER_DATA_LIMIT = 16 * 1024;

const RELEASABLE = new Set<number>([
  NodeStatus.ALLOCATED,
  NodeStatus.RESERVED,
  NodeStatus.BROKEN,
  NodeStatus.DEPLOYING,
  NodeStatus.DEPLOYED,
  NodeStatus.FAILED_DEPLOYMENT,
  NodeStatus.FAILED_DISK_ERASING,
  NodeStatus.FAILED_RELEASING,
  NodeStatus.READY,
  NodeStatus.RELEASING,
]);

/**
 * Taking machines and giving them back: allocation by constraints, deployment (with what it
 * checks first), release, and the other lifecycle actions on one machine. Every transition goes
 * through MachineLifecycleService.
 */
@Injectable()
export class MachineAllocationService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: MachinesRepository,
    private readonly access: MachineAccess,
    private readonly lifecycle: MachineLifecycleService,
    private readonly config: ConfigService,
    private readonly images: BootResourcesService,
  ) {}

  /** One lifecycle action on a machine the caller may see; the lifecycle's rules decide the rest. */
  async act(systemId: string, event: LifecycleEvent, actor: Actor, mutate?: Mutation): Promise<MachineRecord> {
    await this.lifecycle.apply(systemId, event, actor, { require: 'see', mutate });
    return (await this.repo.findBySystemId(systemId))!;
  }

  /**
   * Release (MAAS semantics): at once (after power off), or through the ephemeral environment
   * when the release runs scripts, started in the same transaction. Disks are erased when `erase`
   * is asked, `scripts` names wipe-disks or the setting enable_disk_erasing_on_release is on;
   * secure/quick erase default to their settings. Disk erasing when wipe-disks is all it runs,
   * Releasing with any other release script. Bad flags and unknown scripts are refused before
   * anything changes.
   */
  async release(systemId: string, input: ReleaseInput, actor: Actor): Promise<MachineRecord> {
    const scripts = (input.scripts ?? '').split(',').map((w) => w.trim()).filter((w) => w && w !== 'none');
    const others = scripts.filter((w) => w !== WIPE_DISKS);
    const erase = await this.eraseRun(input, scripts.includes(WIPE_DISKS));
    if (!erase && !others.length) return this.act(systemId, { type: 'release' }, actor);
    const run: RunRequest = { ...(erase ?? {}), releaseScripts: others.join(','), parameters: input.parameters ?? [] };
    await this.lifecycle.apply(systemId, { type: 'release', erase: !others.length, scripts: others.length > 0 }, actor, { require: 'see', run });
    return (await this.repo.findBySystemId(systemId))!;
  }

  /** The wipe-disks run a release asks for (flags as sent, else the settings), or null for none. */
  private async eraseRun(input: ReleaseInput, wipeNamed = false): Promise<RunRequest | null> {
    const flag = (name: string, raw: string | undefined) => (raw === undefined || raw === '' ? undefined : boolField(name, raw, false));
    const askedErase = flag('erase', input.erase) || wipeNamed;
    const secureAsked = flag('secure_erase', input.secureErase);
    const quickAsked = flag('quick_erase', input.quickErase);
    if (!askedErase && !(await this.config.getBool('enable_disk_erasing_on_release'))) return null;
    return {
      erase: {
        secureErase: secureAsked ?? (await this.config.getBool('disk_erase_with_secure_erase')),
        quickErase: quickAsked ?? (await this.config.getBool('disk_erase_with_quick_erase')),
      },
    };
  }

  /** commission / test: the transition and the run of scripts it starts, as one change. */
  async runScripts(systemId: string, event: Extract<LifecycleEvent, { type: 'commission' | 'test' }>, run: RunRequest, actor: Actor): Promise<MachineRecord> {
    await this.lifecycle.apply(systemId, event, actor, { require: 'see', run });
    return (await this.repo.findBySystemId(systemId))!;
  }

  /**
   * Deploys: the release must be one the region can install (a boot resource with a complete
   * root tarball of the machine's architecture), the user data within its limit. Checked before
   * anything changes: a refused deploy leaves the machine as it was.
   */
  async deploy(systemId: string, input: DeployInput, actor: Actor): Promise<MachineRecord> {
    refuseRemovedOptions(input);
    // Without a series, the configured default_osystem/default_distro_series (MAAS's behaviour).
    const series = (input.distroSeries ?? (await this.defaultSeries())).trim();
    const parsed = parseSeries(series);
    if (!parsed) throw invalid({ distro_series: [`'${series}' is not a valid distro_series.`] });
    const ephemeral = boolField('ephemeral_deploy', input.ephemeralDeploy, false);
    const userData = input.userData ? decodeMaybeBase64(input.userData) : null;
    if (userData && userData.length > USER_DATA_LIMIT) {
      throw invalid({ user_data: [`User data is ${userData.length} bytes; the limit is ${USER_DATA_LIMIT} bytes.`] });
    }
    const rec = await this.repo.findBySystemId(systemId);
    const kernelProblem = hweKernelProblem(parsed.osystem, parsed.series, input.hweKernel, rec?.row.min_hwe_kernel);
    if (kernelProblem) throw invalid({ hwe_kernel: [kernelProblem] });
    if (rec && ephemeral) {
      // In memory: the machine runs the release's netboot image (kernel, initrd, squashfs) as its
      // system, so the region must hold that image for its architecture; its disks are not touched.
      const arch = rec.row.architecture || 'amd64/generic';
      const held = (await this.images.netbootImages()).some((i) => i.name === `${parsed.osystem}/${parsed.series}` && i.architecture.split('/')[0] === arch.split('/')[0]);
      if (!held) {
        throw invalid({
          distro_series: [`'${series}' cannot be deployed in memory: the region has no ${parsed.osystem}/${parsed.series} netboot image for ${arch} (kernel, initrd and squashfs; import one with kiln boot-resource-import).`],
        });
      }
    }
    if (rec && !ephemeral) {
      const arch = rec.row.architecture || 'amd64/generic';
      const image = await this.images.deployableImage(parsed.osystem, parsed.series, arch);
      if (!image) {
        throw invalid({
          distro_series: [`'${series}' is not available: the region has no ${parsed.osystem}/${parsed.series} image for ${arch} (import one with kiln boot-resource-import).`],
        });
      }
      // The storage the installer would be given: a layout it cannot build is refused now, not
      // as a failed deployment minutes later.
      const refusal = installerRefusal(curtinMachine(rec));
      if (refusal) {
        const layout = rec.row.storage_layout?.layout ?? 'flat';
        throw invalid({ storage_layout: [`The '${layout}' storage layout of ${rec.row.hostname} cannot be deployed: ${refusal}`] });
      }
      const physical = rec.blockDevices.filter((b) => b.type === 'physical');
      const devices: LayoutDevice[] = physical.map((b) => ({ id: b.id, name: b.name, size: Number(b.size), tags: b.tags ?? [] }));
      const bootRow = physical.find((b) => b.is_boot) ?? physical[0];
      const misfit = layoutFitProblem(rec.row.storage_layout, devices, bootRow ? devices.find((d) => d.id === bootRow.id)! : null);
      if (misfit) throw invalid({ storage_layout: [misfit] });
      // Last, as it may read the whole image back: the image's bytes must be what was imported.
      const problem = await this.images.deployableImageProblem(image);
      if (problem) {
        throw invalid({
          distro_series: [`The ${image.name} image for ${image.architecture} (version ${image.version}) is corrupt: ${problem}; import it again with kiln boot-resource-import.`],
        });
      }
    }
    return this.act(systemId, { type: 'deploy' }, actor, (m) => {
      m.osystem = parsed.osystem;
      m.distroSeries = parsed.series;
      m.hweKernel = input.hweKernel?.trim() || m.hweKernel || null;
      if (input.agentName !== undefined) m.agentName = input.agentName;
      m.ephemeralDeploy = ephemeral;
      // The installer boots from the network; it turns netboot off once the disk can boot.
      m.netboot = true;
      if (userData) m.userData = userData;
    });
  }

  private async defaultSeries(): Promise<string> {
    const [os, series] = [await this.config.getString('default_osystem'), await this.config.getString('default_distro_series')];
    return os && os !== 'ubuntu' ? `${os}/${series}` : series;
  }

  /**
   * Allocates the cheapest Ready machine that meets the constraints (MAAS's allocate form: the
   * constraints and options as sent, which its refusal repeats back).
   */
  async allocate(constraints: ParamBag, actor: Actor): Promise<Allocation> {
    refuseRemovedOptions({
      installKvm: constraints.get('install_kvm'),
      installRackd: constraints.get('install_rackd'),
      registerVmhost: constraints.get('register_vmhost'),
    });
    const where = buildWhere(constraints, ALLOCATE_CONSTRAINTS, ALLOCATE_OPTIONS);
    const storage = constraints.get('storage') ? parseStorageConstraint(constraints.get('storage')!) : null;
    const interfaceLabels = constraints.get('interfaces') ? parseInterfacesConstraint(constraints.get('interfaces')!) : null;
    const dryRun = boolField('dry_run', constraints.get('dry_run'), false);
    // Concurrent allocations can deadlock in Postgres (rows locked in different orders by the
    // lifecycle's writes): the loser's transaction is simply run again.
    const result = await retryOnConflict(() =>
      this.ds.transaction(async (em) => {
        // SKIP LOCKED: concurrent allocations never wait on each other and never get the same machine.
        // Storage and interface labels are fitted per machine: candidates come (and are locked) a page
        // at a time, cheapest first, up to STORAGE_CANDIDATES, so the usual first-page match reads little.
        const perMachine = storage !== null || interfaceLabels !== null;
        const page = perMachine ? STORAGE_PAGE : 1;
        const most = perMachine ? STORAGE_CANDIDATES : 1;
        for (let offset = 0; offset < most; offset += page) {
          let candidates = await this.repo.allocatable(em, where, page, dryRun ? undefined : 'skip-locked', offset);
          if (!candidates.length && !dryRun && offset === 0) {
            // Every match may be locked for a moment by an unrelated write (an event, a power state):
            // wait for those rows, and let Postgres re-check them against the constraints once free.
            candidates = await this.repo.allocatable(em, where, page, 'wait');
          }
          for (const c of candidates) {
            const mapping = storage ? matchStorage(storage, c.blockDevices) : null;
            if (storage && !mapping) continue;
            const ifaces = interfaceLabels ? assignInterfaces(await this.repo.interfacesByLabel(em, c.row.id, interfaceLabels)) : null;
            if (interfaceLabels && !ifaces) continue;
            if (dryRun) return { systemId: c.row.system_id, storage: mapping, interfaces: ifaces, jobs: [] };
            const m = (await this.repo.lockBySystemId(em, c.row.system_id))!;
            const t = await this.lifecycle.transition(em, m, { type: 'allocate' }, actor, (mm) => {
              if (constraints.has('agent_name')) mm.agentName = constraints.get('agent_name') ?? '';
            });
            return { systemId: c.row.system_id, storage: mapping, interfaces: ifaces, jobs: t.jobs };
          }
          if (candidates.length < page) break;
        }
        return null;
      }),
    );
    if (!result) {
      const given = constraints.names().filter((n) => !ALLOCATE_OPTIONS.has(n));
      const sid = constraints.get('system_id');
      if (sid && given.length === 1) throw conflict(`No machine with system ID ${sid} available.`);
      if (!given.length) throw conflict('No machine available.');
      const text = given.map((n) => `${n}=${constraints.getAll(n).join(',')}`).join(', ');
      throw conflict(`No available machine matches constraints: [${text}]`);
    }
    await this.lifecycle.enqueue(result.jobs);
    return { rec: (await this.repo.findBySystemId(result.systemId))!, storage: result.storage, interfaces: result.interfaces };
  }

  /** Releases several machines at once: all of them, or none when one may not be. */
  async releaseMany(systemIds: string[], actor: Actor): Promise<string[]> {
    const unknown: string[] = [];
    const recs: MachineRecord[] = [];
    for (const id of systemIds) {
      const r = await this.repo.findBySystemId(id);
      if (!r) unknown.push(id);
      else recs.push(r);
    }
    if (unknown.length) throw invalid(`Unknown machine(s): ${unknown.join(', ')}.`);
    this.access.requireReleasable(
      actor,
      recs.map((r) => ({ ownerId: r.row.owner_id, systemId: r.row.system_id })),
    );
    const bad = recs.filter((r) => !RELEASABLE.has(r.row.status));
    if (bad.length) {
      throw conflict(
        `Machine(s) cannot be released in their current state: ${bad.map((r) => `${r.row.system_id} ('${statusName(r.row.status as NodeStatus)}')`).join(', ')}.`,
      );
    }
    // As one machine's release without flags: disk erasing when the settings ask for it.
    const run = await this.eraseRun({});
    const released: string[] = [];
    for (const r of recs) {
      if (r.row.status === NodeStatus.READY) continue;
      if (run) await this.lifecycle.apply(r.row.system_id, { type: 'release', erase: true }, actor, { run });
      else await this.lifecycle.apply(r.row.system_id, { type: 'release' }, actor);
      released.push(r.row.system_id);
    }
    return released;
  }
}
