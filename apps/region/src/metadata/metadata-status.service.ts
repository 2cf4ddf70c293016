import { Injectable } from '@nestjs/common';
import { type LifecycleEvent, NodeStatus } from '@kiln/lifecycle';
import { forbidden, invalid } from '../common/domain.error';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { log } from '../logging/logger';
import { MachineLifecycleService } from '../machines/machine-lifecycle.service';
import { MetadataRepository } from './metadata.repository';
import type { NodeCaller } from './node-caller';

/** One event of cloud-init's or curtin's reporting webhook (reference maas-api.md §4.9). */
export interface StatusEvent {
  event_type: string;
  origin: string;
  name: string;
  description: string;
  result?: string;
  timestamp?: number;
}

const REQUIRED = ['event_type', 'origin', 'name', 'description'] as const;
const FAILURES = new Set(['FAIL', 'FAILURE']);

/**
 * The status webhook: events into the machine's log; a top-level failure fails the status in
 * flight; cloud-init's final `modules-final` success completes a release; while Deploying, every
 * event is a sign of progress that pushes the deadline back.
 */
@Injectable()
export class MetadataStatusService {
  constructor(
    private readonly repo: MetadataRepository,
    private readonly events: EventsRepository,
    private readonly lifecycle: MachineLifecycleService,
  ) {}

  /** Validates a body as sent (JSON text). */
  parse(body: Buffer): StatusEvent {
    let doc: unknown;
    const text = body.toString('latin1');
    if (/[^\x00-\x7f]/.test(text)) throw invalid('Status payload must be ASCII JSON.');
    try {
      doc = JSON.parse(text);
    } catch {
      throw invalid('Status payload must be ASCII JSON.');
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('Status payload must be a JSON object.');
    const o = doc as Record<string, unknown>;
    const missing = REQUIRED.filter((k) => typeof o[k] !== 'string');
    if (missing.length) throw invalid(`Missing parameter(s) in status message: ${missing.join(', ')}`);
    return o as unknown as StatusEvent;
  }

  async report(node: NodeCaller, systemId: string, e: StatusEvent): Promise<void> {
    if (node.systemId !== systemId) throw forbidden(`This node token belongs to machine ${node.systemId}, not ${systemId}.`);
    const m = await this.repo.machine(node.machineId);
    if (!m) return;
    const failed = e.event_type === 'finish' && FAILURES.has(String(e.result ?? '').toUpperCase());
    const deploying = m.status === NodeStatus.DEPLOYING;
    // While Deploying, a step is written with the deadline it pushes back (below).
    if ((e.event_type === 'start' && !deploying) || failed) {
      await this.events.append({
        machineId: m.id,
        systemId: m.system_id,
        hostname: m.hostname,
        type: failed ? MachineEvents.NODE_STATUS_FAILURE.type : MachineEvents.NODE_STATUS_EVENT.type,
        level: failed ? 'ERROR' : 'DEBUG',
        description: `${e.origin} ${e.name}: ${e.description}`,
      });
    }
    const topLevel = !e.name.includes('/');
    let signal: LifecycleEvent | null = null;
    if (failed && topLevel) {
      const reason = `${e.origin} reported ${e.name} failed: ${e.description}`;
      if (m.status === NodeStatus.COMMISSIONING) signal = { type: 'commissioningFailed', reason };
      else if (m.status === NodeStatus.DEPLOYING) signal = { type: 'deploymentFailed', reason };
      else if (m.status === NodeStatus.RELEASING || m.status === NodeStatus.DISK_ERASING) signal = { type: 'releaseFailed', reason };
    } else if (e.event_type === 'finish' && e.name === 'modules-final' && (m.status === NodeStatus.RELEASING || m.status === NodeStatus.DISK_ERASING)) {
      signal = { type: 'releaseCompleted' };
    }
    if (signal) await this.lifecycle.apply(m.system_id, signal, null);
    else if (deploying) {
      // Every step of the installer and of the installed system's first boot is an event an
      // operator reads (and the machine's status message), and pushes the deadline back, in one
      // transaction: the deadline sweep names the last of them when progress stops.
      // The machine's row is locked meanwhile: a step sent again (the installer retries a POST
      // whose answer it lost) is the machine's newest event already and is not written twice.
      const description = deployStep(e);
      const type = MachineEvents.NODE_STATUS_EVENT.type;
      const recorded = await this.lifecycle.extendDeadlineOf(m.system_id, NodeStatus.DEPLOYING, async (em) => {
        const latest = await this.events.latestOf(m.id, em);
        if (latest?.type === type && latest.description === description) return;
        await this.events.append(
          { machineId: m.id, systemId: m.system_id, hostname: m.hostname, type, level: 'INFO', description, whileStatus: NodeStatus.DEPLOYING },
          em,
        );
      });
      if (recorded) log().debug({ systemId: m.system_id, step: e.name, eventType: e.event_type }, 'deployment progress');
    }
  }
}

/**
 * What an operator reads of one step of a deployment: the installer's steps ("Installing:
 * partitioning vda", "Installing: image written (…)"), then the installed system's first boot
 * (cloud-init's modules, "Installed system: …").
 */
export function deployStep(e: StatusEvent): string {
  const what = e.description.trim() || e.name;
  if (e.origin === 'curtin') return `${e.event_type === 'finish' && !e.name.includes('/') ? 'Installed' : 'Installing'}: ${what}`;
  return `Installed system: ${e.name}${e.event_type === 'finish' ? ' done' : ''}${what !== e.name ? ` (${what})` : ''}`;
}
