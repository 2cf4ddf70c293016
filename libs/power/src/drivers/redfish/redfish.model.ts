import { PowerError, PowerErrorCode } from '../../power.errors';
import { BootDevice, OffMode, PowerState } from '../../power.types';

/**
 * Pure reading of Redfish resources (DMTF DSP0266 / DSP8010 schemas): where the systems are,
 * which ComputerSystem to drive, what its power state and boot override are, which ResetType
 * to send, and what an error body says.
 */
export type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function odataId(v: unknown): string | undefined {
  const id = obj(v)?.['@odata.id'];
  return typeof id === 'string' ? id : undefined;
}

/** The Systems collection's path from the service root. */
export function systemsPath(root: Json): string {
  const p = odataId(root.Systems);
  if (!p) throw new PowerError('BAD_SETTINGS', 'this Redfish service has no Systems collection (not a server BMC?)');
  return p;
}

/** The Sessions collection's path (Links.Sessions, else the SessionService's Sessions). */
export function sessionsPath(root: Json): string | undefined {
  return odataId(obj(root.Links)?.Sessions) ?? (odataId(root.SessionService) ? `${odataId(root.SessionService)!.replace(/\/$/, '')}/Sessions` : undefined);
}

/** Member paths of a collection. */
export function members(collection: Json): string[] {
  const m = collection.Members;
  return Array.isArray(m) ? m.map(odataId).filter((x): x is string => !!x) : [];
}

/**
 * The system to drive: the member whose last path segment is `nodeId`, or (as MAAS does when
 * node_id is empty) the first member.
 */
export function pickSystem(memberPaths: string[], nodeId: string): string {
  if (memberPaths.length === 0) throw new PowerError('BAD_SETTINGS', 'the Redfish Systems collection is empty');
  if (!nodeId) return memberPaths[0];
  const found = memberPaths.find((p) => lastSegment(p) === nodeId || p.replace(/\/$/, '') === nodeId.replace(/\/$/, ''));
  if (!found) {
    throw new PowerError(
      'BAD_SETTINGS',
      `node_id "${nodeId}" is not among this BMC's systems (${printable(memberPaths.map(lastSegment).join(', '))})`,
    );
  }
  return found;
}

export function lastSegment(path: string): string {
  const parts = path.replace(/\/+$/, '').split('/');
  const last = parts[parts.length - 1] ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last; // not percent-encoding after all
  }
}

/** PowerState of a ComputerSystem. A transition counts as the state it leaves. */
export function powerStateOf(system: Json): PowerState {
  switch (system.PowerState) {
    case 'On':
    case 'PoweringOff':
    case 'Paused':
      return 'on';
    case 'Off':
    case 'PoweringOn':
      return 'off';
    default:
      return 'unknown';
  }
}

export interface ResetAction {
  target: string;
  /** Allowed ResetType values, if the service lists them (inline or in ActionInfo). */
  allowed?: string[];
  /** Path of an ActionInfo resource to read the allowed values from. */
  actionInfo?: string;
}

export function resetActionOf(system: Json, systemPath: string): ResetAction {
  const a = obj(obj(system.Actions)?.['#ComputerSystem.Reset']);
  const target = typeof a?.target === 'string' ? a.target : `${systemPath.replace(/\/$/, '')}/Actions/ComputerSystem.Reset`;
  const allowedRaw = a?.['ResetType@Redfish.AllowableValues'];
  const allowed = Array.isArray(allowedRaw) ? allowedRaw.filter((x): x is string => typeof x === 'string') : undefined;
  const info = a?.['@Redfish.ActionInfo'];
  return { target, allowed, actionInfo: typeof info === 'string' ? info : undefined };
}

/** Allowed values from an ActionInfo resource's ResetType parameter. */
export function allowedFromActionInfo(info: Json): string[] | undefined {
  const params = info.Parameters;
  if (!Array.isArray(params)) return undefined;
  const p = params.map(obj).find((x) => x?.Name === 'ResetType');
  const v = p?.AllowableValues;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

export type ResetIntent = 'on' | 'off-hard' | 'off-soft' | 'restart';

const PREFERENCES: Record<ResetIntent, string[]> = {
  on: ['On', 'ForceOn'],
  'off-hard': ['ForceOff'],
  'off-soft': ['GracefulShutdown'],
  restart: ['PowerCycle', 'ForceRestart', 'GracefulRestart'],
};

export function offIntent(mode: OffMode): ResetIntent {
  return mode === 'soft' ? 'off-soft' : 'off-hard';
}

/** The ResetType to send: our first preference the service allows. */
export function chooseResetType(intent: ResetIntent, allowed: string[] | undefined): string {
  const prefs = PREFERENCES[intent];
  if (!allowed) return prefs[0];
  const hit = prefs.find((p) => allowed.includes(p));
  if (!hit) {
    throw new PowerError('UNSUPPORTED', `this Redfish system allows no ResetType for ${intent} (wanted ${prefs.join(' or ')})`, `allowed: ${printable(allowed.join(', '))}`);
  }
  return hit;
}

export const BOOT_TARGET: Record<BootDevice, string> = { pxe: 'Pxe', disk: 'Hdd' };

export function bootOverrideBody(device: BootDevice): Json {
  return { Boot: { BootSourceOverrideTarget: BOOT_TARGET[device], BootSourceOverrideEnabled: 'Once' } };
}

/** Checks the system offers the boot target, when it lists what it offers. */
export function checkBootTarget(system: Json, device: BootDevice): void {
  const allowed = obj(system.Boot)?.['BootSourceOverrideTarget@Redfish.AllowableValues'];
  if (Array.isArray(allowed) && !allowed.includes(BOOT_TARGET[device])) {
    throw new PowerError('UNSUPPORTED', `this Redfish system cannot boot from ${BOOT_TARGET[device]}`, `allowed: ${printable(allowed.join(', '))}`);
  }
}

export function bootDeviceOf(system: Json): BootDevice | 'none' | 'other' {
  const boot = obj(system.Boot);
  if (!boot || boot.BootSourceOverrideEnabled === 'Disabled') return 'none';
  switch (boot.BootSourceOverrideTarget) {
    case 'Pxe':
      return 'pxe';
    case 'Hdd':
      return 'disk';
    case 'None':
    case undefined:
      return 'none';
    default:
      return 'other';
  }
}

/**
 * What a Redfish service said, for errors: only the MessageIds and Message texts of a body that is
 * a Redfish error object (DSP0266 "error" with a MessageId `code` and `@Message.ExtendedInfo`),
 * made printable and bounded. Anything else a power address answered (an HTML page, another
 * service's JSON, text) is never quoted: the address is chosen by whoever set the power
 * parameters, and its answer must not travel back to them through events or the API.
 * Undefined when the body is not a Redfish error object.
 */
export function redfishErrorWords(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const e = obj(obj(parsed)?.error);
  if (!e) return undefined;
  const words: string[] = [];
  const add = (id: unknown, message: unknown) => {
    if (!isMessageId(id)) return;
    const text = typeof message === 'string' ? printable(message, MESSAGE_MAX) : '';
    const said = text ? `${id}: ${text}` : id;
    if (!words.includes(said)) words.push(said);
  };
  add(e.code, e.message);
  const ext = e['@Message.ExtendedInfo'];
  if (Array.isArray(ext)) {
    for (const m of ext.slice(0, EXTENDED_MAX)) add(obj(m)?.MessageId, obj(m)?.Message);
  }
  return words.length > 0 ? words.join(' | ') : undefined;
}

const MESSAGE_MAX = 200;
const EXTENDED_MAX = 4;

/**
 * A Redfish MessageId: RegistryName.MajorVersion.MinorVersion.MessageKey (DSP0266), e.g.
 * Base.1.8.GeneralError, IDRAC.2.1.RAC0508; some services write the version as v1_4_0.
 */
const MESSAGE_ID = /^[A-Za-z][A-Za-z0-9_-]*\.v?\d+[A-Za-z0-9_]*(\.[A-Za-z0-9_-]+){1,3}$/;

function isMessageId(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 100 && MESSAGE_ID.test(v);
}

/**
 * Text from a BMC made safe to show: control, format (bidirectional overrides, zero-width),
 * private-use and unassigned characters and line breaks become single spaces; at most `max`
 * characters, an ellipsis marking a cut.
 */
export function printable(text: string, max = MESSAGE_MAX): string {
  const clean = text.replace(/[\p{C}\p{Z}\s]+/gu, ' ').trim();
  const chars = [...clean];
  return chars.length > max ? `${chars.slice(0, max - 1).join('').trimEnd()}…` : clean;
}

/** The status and, for a Redfish error object only, its words; other bodies are not quoted. */
export function statusWords(status: number, body: string): string {
  const words = redfishErrorWords(body);
  if (words) return `HTTP ${status}: ${words}`;
  return body.trim() ? `HTTP ${status}, not a Redfish answer` : `HTTP ${status}`;
}

/** A PowerError for an HTTP error status from a Redfish service. */
export function httpError(status: number, body: string, what: string): PowerError {
  const [code, explanation] = statusMeaning(status);
  return new PowerError(code, `${what}: ${explanation}`, statusWords(status, body));
}

function statusMeaning(status: number): [PowerErrorCode, string] {
  if (status === 401) return ['BMC_AUTH', 'the BMC refused the credentials'];
  if (status === 403) return ['BMC_AUTH', 'the user may not do this'];
  if (status === 404) return ['BAD_SETTINGS', 'the BMC has no such resource'];
  if (status === 405 || status === 501) return ['UNSUPPORTED', 'the BMC does not support this'];
  if (status === 400) return ['BAD_SETTINGS', 'the BMC rejected the request'];
  if (status === 409 || status === 412) return ['BMC_BUSY', 'the BMC refused because the resource changed or is busy'];
  if (status === 429 || status === 503) return ['BMC_BUSY', 'the BMC is busy'];
  return ['BMC_ERROR', 'the BMC failed'];
}
