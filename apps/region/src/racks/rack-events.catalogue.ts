import type { BootConfig, BootEvent, LeaseEvent } from '@kiln/contracts';
import type { EventLevelName } from '../events/event-levels';
import type { MachineEventType } from '../events/event-types.catalogue';

/**
 * The machine events the racks cause, typed: what operators read in events/ to see where a boot
 * stopped. Successful routine steps are DEBUG (query with level=DEBUG); failures are WARNING.
 */
export interface CataloguedEvent {
  type: MachineEventType;
  level: EventLevelName;
  description: string;
}

export function bootRequestEvent(c: BootConfig, rackId: string, iface: string | undefined, clientArch: number | undefined): CataloguedEvent {
  const where = `rack ${rackId}${iface ? ` on ${iface}` : ''}${clientArch !== undefined ? `, client arch ${clientArch}` : ''}`;
  if (c.kind === 'no-image') return { type: 'No boot image', level: 'ERROR', description: `${c.message} (asked via ${where})` };
  const what = c.kind === 'local' ? 'local disk' : `${c.kind} (${c.purpose}) ${c.kernel}`;
  return { type: 'PXE Request', level: c.kind === 'local' ? 'DEBUG' : 'INFO', description: `boot ${what} via ${where}` };
}

export function leaseEventRecord(e: LeaseEvent): CataloguedEvent {
  const where = `rack ${e.rackId}${e.iface ? ` on ${e.iface}` : ''}`;
  switch (e.action) {
    case 'commit':
      return { type: 'DHCP lease', level: 'INFO', description: `${e.ip} leased via ${where}` };
    case 'renew':
      return { type: 'DHCP lease renewed', level: 'DEBUG', description: `${e.ip} renewed via ${where}` };
    case 'release':
      return { type: 'DHCP lease released', level: 'DEBUG', description: `${e.ip} released via ${where}` };
    case 'expire':
      return { type: 'DHCP lease expired', level: 'DEBUG', description: `${e.ip} expired on ${where}` };
    case 'decline':
      return { type: 'DHCP lease declined', level: 'WARNING', description: `${e.ip} declined by the client (address in use?) on ${where}` };
    default: {
      const never: never = e.action;
      throw new Error(`unknown lease action ${String(never)}`);
    }
  }
}

const STEP_TYPES: Record<BootEvent['step'], MachineEventType> = {
  'dhcp-discover': 'DHCP discover',
  'dhcp-offer': 'DHCP offer',
  'dhcp-request': 'DHCP request',
  'dhcp-ack': 'DHCP ack',
  'dhcp-nak': 'DHCP nak',
  'tftp-file': 'TFTP Request',
  'http-file': 'HTTP Request',
  'boot-script': 'Boot script',
  metadata: 'Metadata request',
};

export function bootStepRecord(e: BootEvent): CataloguedEvent {
  const parts = [
    e.file,
    e.ip,
    e.bytes !== undefined ? `${e.bytes} bytes` : undefined,
    e.durationMs !== undefined ? `${Math.round(e.durationMs)} ms` : undefined,
    e.clientArch !== undefined ? `client arch ${e.clientArch}` : undefined,
    `rack ${e.rackId}${e.iface ? ` on ${e.iface}` : ''}`,
    e.detail,
  ].filter((p): p is string => !!p);
  const failed = !e.ok || e.step === 'dhcp-nak';
  return { type: STEP_TYPES[e.step], level: failed ? 'WARNING' : 'DEBUG', description: `${failed ? 'failed: ' : ''}${parts.join(', ')}` };
}
