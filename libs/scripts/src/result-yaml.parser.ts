/**
 * The result YAML a script may write to `$RESULT_PATH` (reference maas-api.md §5.4), uploaded as
 * `<name>.yaml`. `parseResultYaml(bytes)` returns the typed result, `null` for an empty file, or
 * coded errors (MAAS then logs "sent a script result with invalid YAML" and keeps the status the
 * exit code gave).
 */
import { parse as parseYaml } from 'yaml';

export const RESULT_STATUSES = ['passed', 'failed', 'degraded', 'timedout', 'skipped'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export type ResultScalar = string | number | boolean;
export type ResultValue = ResultScalar | ResultScalar[];

export interface ScriptResultYaml {
  /** Overrides the status derived from the exit code. */
  status?: ResultStatus;
  /** Metrics shown with the result, keyed as the script's `results` metadata declares. */
  results: Record<string, ResultValue>;
  /** Only meaningful for scripts with an `interface` parameter. */
  linkConnected?: boolean;
  /** Top-level keys Kiln does not interpret, kept as given. */
  extra: Record<string, unknown>;
}

export type ResultYamlErrorCode = 'INVALID_YAML' | 'NOT_A_MAPPING' | 'INVALID_STATUS' | 'INVALID_RESULTS' | 'INVALID_LINK_CONNECTED';

export interface ResultYamlError {
  code: ResultYamlErrorCode;
  key?: string;
  message: string;
}

export type ParseResultYamlResult = { ok: true; value: ScriptResultYaml | null } | { ok: false; errors: ResultYamlError[] };

/** Words PyYAML (YAML 1.1, which MAAS reads results with) takes as booleans; YAML 1.2 does not. */
const YAML_11_BOOLS: Readonly<Record<string, boolean>> = {
  ...Object.fromEntries(['yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((w) => [w, true])),
  ...Object.fromEntries(['no', 'No', 'NO', 'off', 'Off', 'OFF'].map((w) => [w, false])),
};

function isScalar(v: unknown): v is ResultScalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

export function parseResultYaml(input: string | Uint8Array): ParseResultYamlResult {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  if (text.trim() === '') return { ok: true, value: null };
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    return { ok: false, errors: [{ code: 'INVALID_YAML', message: `Invalid YAML: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  if (doc === null || doc === undefined) return { ok: true, value: null };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, errors: [{ code: 'NOT_A_MAPPING', message: 'Result YAML must be a mapping.' }] };
  }
  const errors: ResultYamlError[] = [];
  const out: ScriptResultYaml = { results: {}, extra: {} };
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'status') {
      const s = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
      if (s === undefined || !(RESULT_STATUSES as readonly string[]).includes(s)) {
        errors.push({ code: 'INVALID_STATUS', key, message: `Invalid status "${String(v)}"; one of ${RESULT_STATUSES.join(', ')}.` });
      } else out.status = s as ResultStatus;
    } else if (key === 'results') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) {
        errors.push({ code: 'INVALID_RESULTS', key, message: 'results must be a mapping of key to a scalar or a list of scalars.' });
        continue;
      }
      for (const [rk, rv] of Object.entries(v as Record<string, unknown>)) {
        if (isScalar(rv)) out.results[rk] = rv;
        else if (Array.isArray(rv) && rv.every(isScalar)) out.results[rk] = rv as ResultScalar[];
        else errors.push({ code: 'INVALID_RESULTS', key: `results.${rk}`, message: `results.${rk} must be a scalar or a list of scalars.` });
      }
    } else if (key === 'link_connected') {
      const b = typeof v === 'boolean' ? v : typeof v === 'string' ? YAML_11_BOOLS[v] : undefined;
      if (b === undefined) errors.push({ code: 'INVALID_LINK_CONNECTED', key, message: 'link_connected must be a boolean.' });
      else out.linkConnected = b;
    } else {
      out.extra[key] = v;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}
