import { Injectable } from '@nestjs/common';
import { NodeStatus } from '@kiln/lifecycle';
import {
  buildScriptsTarball,
  codeToName,
  HARDWARE_TYPE_CODES,
  loadInstallerScript,
  loadRunnerScript,
  PARALLEL_CODES,
  renderInstallerUserData,
  renderUserData,
  SCRIPT_TYPE_CODES,
  type ScriptParameterWithValue,
  type TarballScript,
  type UserDataPhase,
} from '@kiln/scripts';
import { notFound } from '../common/domain.error';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { RunResultRow, ScriptRunsRepository, UNFINISHED_STATUSES } from '../scripts/script-runs.repository';
import { ScriptRunsService } from '../scripts/script-runs.service';
import { MachineConfigService } from '../machines/machine-config.service';
import { MachineLifecycleService } from '../machines/machine-lifecycle.service';
import { MetadataMachine, MetadataRepository } from './metadata.repository';
import type { NodeCaller } from './node-caller';
import { metadataUrl, renderEnlistPreseed, renderNodePreseed, renderVendorData } from './preseed.renderer';

/** What a metadata read answers: a body and its content type, or nothing (204). */
export interface MetadataContent {
  body: string | Buffer | null;
  contentType: string;
}

const TEXT = 'text/plain; charset=utf-8';
const BINARY = 'application/octet-stream';

export const ENLISTMENT_INSTANCE_ID = 'i-maas-enlistment';
export const ENLISTMENT_HOSTNAME = 'maas-enlisting-node';

const PHASES: Partial<Record<number, UserDataPhase>> = {
  [NodeStatus.COMMISSIONING]: 'commissioning',
  [NodeStatus.TESTING]: 'testing',
  [NodeStatus.RELEASING]: 'release',
  [NodeStatus.DISK_ERASING]: 'release',
  [NodeStatus.ENTERING_RESCUE_MODE]: 'rescue',
  [NodeStatus.RESCUE_MODE]: 'rescue',
  [NodeStatus.DEPLOYING]: 'deployment',
};

/**
 * The read side of the metadata API (reference maas-api.md §4.2): meta-data items, user-data,
 * the scripts tarball and the preseeds, for a machine (from its node token) or for an unknown,
 * enlisting one (anonymous).
 */
@Injectable()
export class MetadataService {
  private runnerText: string | null = null;
  private installerText: string | null = null;

  constructor(
    private readonly repo: MetadataRepository,
    private readonly runs: ScriptRunsRepository,
    private readonly runService: ScriptRunsService,
    private readonly events: EventsRepository,
    private readonly config: MachineConfigService,
    private readonly lifecycle: MachineLifecycleService,
  ) {}

  private async machine(node: NodeCaller): Promise<MetadataMachine> {
    const m = await this.repo.machine(node.machineId);
    if (!m) throw notFound('No Machine matches the given query.');
    return m;
  }

  /** `<v>/` listing. */
  async versionIndex(node: NodeCaller | null): Promise<string> {
    if (!node) return 'meta-data\nuser-data';
    return ['maas-commissioning-scripts', 'meta-data', 'user-data'].join('\n');
  }

  /** `<v>/meta-data/` listing. */
  async metaDataIndex(node: NodeCaller | null): Promise<string> {
    if (!node) return ['instance-id', 'local-hostname'].join('\n');
    const m = await this.machine(node);
    const items = ['instance-id', 'local-hostname'];
    if (await this.publicKeysVisible(m)) items.push('public-keys');
    items.push('vendor-data', 'x509');
    return items.join('\n');
  }

  async metaDataItem(node: NodeCaller | null, item: string): Promise<MetadataContent> {
    if (!node) {
      switch (item) {
        case 'instance-id':
          return { body: ENLISTMENT_INSTANCE_ID, contentType: TEXT };
        case 'local-hostname':
          return { body: ENLISTMENT_HOSTNAME, contentType: TEXT };
        case 'public-keys':
          return { body: '', contentType: TEXT };
        default:
          throw notFound(`Unknown metadata attribute: ${item}`);
      }
    }
    const m = await this.machine(node);
    switch (item) {
      case 'instance-id':
        return { body: m.system_id, contentType: TEXT };
      case 'local-hostname':
        return { body: `${m.hostname}.${m.domain}`, contentType: TEXT };
      case 'public-keys':
        return { body: (await this.publicKeysVisible(m)) ? (await this.repo.sshKeys(m.owner_id!)).join('\n') : '', contentType: TEXT };
      case 'x509':
        return { body: '', contentType: TEXT };
      case 'vendor-data': {
        const inMemory = m.ephemeral_deploy && (m.status === NodeStatus.DEPLOYING || m.status === NodeStatus.DEPLOYED);
        return { body: renderVendorData({ startSsh: inMemory }), contentType: 'application/x-yaml; charset=utf-8' };
      }
      default:
        throw notFound(`Unknown metadata attribute: ${item}`);
    }
  }

  /**
   * user-data: the runner for a machine in the ephemeral environment (and for an unknown one,
   * in its enlistment phase). Fetching it while commissioning records "Gathering information".
   */
  async userData(node: NodeCaller | null, origin: string, curtin = false): Promise<MetadataContent> {
    const url = metadataUrl(origin);
    if (!node) return { body: renderUserData({ metadataUrl: url, phase: 'enlistment', runner: this.runner() }), contentType: BINARY };
    const m = await this.machine(node);
    const credentials = { consumerKey: node.consumerKey, tokenKey: node.tokenKey, tokenSecret: node.tokenSecret };
    if (m.status === NodeStatus.DEPLOYING && (!m.ephemeral_deploy || !curtin)) {
      if (curtin) {
        // The ephemeral environment of a deployment: the installer, with what it installs.
        const config = await this.config.installerConfig(m.system_id, origin.replace(/\/+$/, ''), credentials);
        if (config) {
          await this.events.append({
            machineId: m.id,
            systemId: m.system_id,
            hostname: m.hostname,
            ...MachineEvents.NODE_STATUS_EVENT,
            description: 'The machine started the installer',
          });
          return { body: renderInstallerUserData(config, this.installer()), contentType: BINARY };
        }
      } else {
        // The installed system's cloud-init asks for its user-data: the deployment is done
        // (reference 4.4/4.13: this request, and not the curtin one, flips DEPLOYING -> DEPLOYED).
        // So does the ephemeral environment's of a machine deployed in memory: it is the system.
        await this.lifecycle.apply(m.system_id, { type: 'deployed' }, null);
        if (m.user_data) return { body: m.user_data, contentType: BINARY };
        throw notFound('');
      }
    }
    const phase = PHASES[m.status];
    if (!phase) {
      // A machine outside the ephemeral environment gets its own user data, if it has any.
      if (m.user_data) return { body: m.user_data, contentType: BINARY };
      throw notFound('');
    }
    if (m.status === NodeStatus.COMMISSIONING) {
      await this.events.append({
        machineId: m.id,
        systemId: m.system_id,
        hostname: m.hostname,
        ...MachineEvents.GATHERING_INFO,
        description: 'The machine started the commissioning environment',
      });
    }
    // Rescue mode is for the owner to log in; commissioning and testing when enable_ssh was asked.
    const startSsh = phase === 'rescue' || (m.enable_ssh && (phase === 'commissioning' || phase === 'testing'));
    return { body: renderUserData({ metadataUrl: url, credentials, phase, runner: this.runner(), startSsh }), contentType: BINARY };
  }

  /**
   * maas-scripts: the unfinished results of the machine's current runs (commissioning, then the
   * tests that follow; testing alone while TESTING), or null (204) when there is nothing to run.
   * Anonymous: the built-in commissioning scripts, without result ids (enlistment).
   */
  async scriptsTarball(node: NodeCaller | null): Promise<Buffer | null> {
    if (!node) return this.enlistmentTarball();
    const m = await this.machine(node);
    const sets: number[] = [];
    if (m.status === NodeStatus.COMMISSIONING && m.current_commissioning_script_set_id !== null) sets.push(m.current_commissioning_script_set_id);
    if ((m.status === NodeStatus.COMMISSIONING || m.status === NodeStatus.TESTING) && m.current_testing_script_set_id !== null) {
      sets.push(m.current_testing_script_set_id);
    }
    if ((m.status === NodeStatus.DISK_ERASING || m.status === NodeStatus.RELEASING) && m.current_release_script_set_id !== null) {
      sets.push(m.current_release_script_set_id);
    }
    if (!sets.length) return null;
    let rows = await this.runs.resultsOfSets(this.runs.manager(), sets);
    const commissioningLeft = rows.some((r) => r.result_type === 0 && UNFINISHED_STATUSES.includes(r.status));
    if (m.status === NodeStatus.COMMISSIONING && !commissioningLeft && m.current_testing_script_set_id !== null) {
      // Commissioning is over: the tests that need a disk or an interface can now have one each.
      await this.runs.transaction((em) => this.runService.completeDeviceResults(em, m.id, m.current_testing_script_set_id!));
      rows = await this.runs.resultsOfSets(this.runs.manager(), sets);
    }
    const entries = rows.filter((r) => UNFINISHED_STATUSES.includes(r.status) && r.data !== null && r.script_type !== null).map(tarEntry);
    return entries.length ? buildScriptsTarball(entries) : null;
  }

  private async enlistmentTarball(): Promise<Buffer | null> {
    const rows = await this.repo.enlistmentScripts();
    const entries: TarballScript[] = rows
      .filter((r) => r.data !== null)
      .map((r) => {
        const parameters: Record<string, ScriptParameterWithValue> = {};
        for (const [name, spec] of Object.entries(r.parameters)) {
          parameters[name] = { ...(spec as ScriptParameterWithValue), value: spec.default === undefined ? '' : spec.default };
        }
        return {
          scriptType: 'commissioning',
          name: r.name,
          content: r.data!,
          ...(r.version_id !== null ? { scriptVersionId: r.version_id } : {}),
          timeoutSeconds: r.timeout_seconds,
          parallel: codeToName(PARALLEL_CODES, r.parallel) ?? 'disabled',
          hardwareType: codeToName(HARDWARE_TYPE_CODES, r.hardware_type) ?? 'node',
          parameters,
          packages: r.packages,
          forHardware: r.for_hardware,
          applyConfiguredNetworking: r.apply_configured_networking,
          default: r.is_default,
          tags: r.tags,
        };
      });
    return entries.length ? buildScriptsTarball(entries) : null;
  }

  /** The known machine's preseed, with its node credentials (anonymous, as MAAS serves it). */
  async nodePreseed(systemId: string, origin: string): Promise<string> {
    const machineId = await this.repo.machineIdBySystemId(systemId);
    if (machineId === null) throw notFound('No Node matches the given query.');
    const { token, machine } = await this.runs.transaction(async (em) => {
      const m = (await this.repo.machine(machineId, em))!;
      // A machine booting for a purpose without a run (rescue, release...) gets a token for it.
      const t = (await this.runs.liveToken(em, machineId)) ?? (await this.runService.issueTokenFor(em, machineId, purposeOf(m.status)));
      return { token: t, machine: m };
    });
    return renderNodePreseed({
      origin,
      systemId,
      status: machine.status,
      credentials: { consumerKey: token.consumer_key, tokenKey: token.token_key, tokenSecret: token.token_secret },
      enableSsh: machine.enable_ssh,
      ephemeralDeploy: machine.ephemeral_deploy,
    });
  }

  enlistPreseed(origin: string): string {
    return renderEnlistPreseed(origin);
  }

  async setNetboot(node: NodeCaller, on: boolean): Promise<void> {
    await this.netboot(node.machineId, on);
  }

  async setNetbootBySystemId(systemId: string, on: boolean): Promise<void> {
    const id = await this.repo.machineIdBySystemId(systemId);
    if (id === null) throw notFound('No Node matches the given query.');
    await this.netboot(id, on);
  }

  private async netboot(machineId: number, on: boolean): Promise<void> {
    await this.repo.setNetboot(machineId, on);
    const m = await this.repo.machine(machineId);
    if (!m) return;
    await this.events.append({
      machineId,
      systemId: m.system_id,
      hostname: m.hostname,
      ...MachineEvents.NETBOOT_CHANGED,
      description: on ? 'The machine asked to network-boot again' : 'The machine asked to boot from its disk from now on',
    });
  }

  private async publicKeysVisible(m: MetadataMachine): Promise<boolean> {
    if (m.owner_id === null) return false;
    if ((m.status === NodeStatus.COMMISSIONING || m.status === NodeStatus.TESTING) && !m.enable_ssh) return false;
    return (await this.repo.sshKeys(m.owner_id)).length > 0;
  }

  private runner(): string {
    return (this.runnerText ??= loadRunnerScript());
  }

  private installer(): string {
    return (this.installerText ??= loadInstallerScript());
  }
}

function purposeOf(status: number): string {
  return PHASES[status] ?? 'boot';
}

function tarEntry(r: RunResultRow): TarballScript {
  const entry: TarballScript = {
    scriptType: codeToName(SCRIPT_TYPE_CODES, r.script_type!) ?? 'testing',
    name: r.script_name,
    content: r.data!,
    scriptResultId: r.id,
    timeoutSeconds: r.timeout_seconds ?? 0,
    parallel: codeToName(PARALLEL_CODES, r.parallel ?? 0) ?? 'disabled',
    hardwareType: codeToName(HARDWARE_TYPE_CODES, r.hardware_type ?? 0) ?? 'node',
    parameters: r.parameters as Record<string, ScriptParameterWithValue>,
    packages: (r.packages ?? {}) as TarballScript['packages'],
    forHardware: r.for_hardware ?? [],
    applyConfiguredNetworking: r.apply_configured_networking ?? false,
    hasStarted: r.status !== 0 || r.started !== null,
    hasFinished: false,
    default: r.is_default ?? false,
    tags: r.tags ?? [],
  };
  if (r.script_version_id !== null) entry.scriptVersionId = r.script_version_id;
  if (entry.hasStarted) {
    const prev = { combined: r.output ?? undefined, stdout: r.stdout ?? undefined, stderr: r.stderr ?? undefined, result: r.result ?? undefined };
    if (prev.combined || prev.stdout || prev.stderr || prev.result) entry.previousOutput = prev;
  }
  return entry;
}
