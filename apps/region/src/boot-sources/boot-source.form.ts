/**
 * MAAS's BootSourceForm and BootSourceSelectionForm: what a boot source and a selection may be, as
 * pure validation. A source needs a URL and exactly one of keyring_filename or keyring_data.
 */
export interface BootSource {
  id: number;
  url: string;
  keyringFilename: string;
  keyringData: Buffer;
  created: Date;
  updated: Date;
}

export type BootSourceFields = Pick<BootSource, 'url' | 'keyringFilename' | 'keyringData'>;

/** What a client sent: keyring_data as an uploaded file (raw bytes) or as a base64 string. */
export interface BootSourceInput {
  url?: string;
  keyring_filename?: string;
  keyring_data?: Buffer | string;
}

export interface BootSourceSelection {
  id: number;
  bootSourceId: number;
  os: string;
  release: string;
  arches: string[];
  subarches: string[];
  labels: string[];
}

export type BootSourceSelectionFields = Omit<BootSourceSelection, 'id' | 'bootSourceId'>;

/** Lists as given (comma or space separated, or repeated). */
export interface BootSourceSelectionInput {
  os?: string;
  release?: string;
  arches?: string[];
  subarches?: string[];
  labels?: string[];
}

type Errors = Record<string, string[]>;
type Applied<T> = { ok: true; fields: T } | { ok: false; errors: Errors };

const URL_RE = /^(https?:\/\/[^\s/?#]+[^\s]*|file:\/\/\/?[^\s]+)$/i;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_MAX = 200;
const FILENAME_MAX = 4096;
const NAME_MAX = 20;
const LIST_ITEM_MAX = 64;
const CONTROL = /[\x00-\x1f\x7f]/;

const list = (values: string[]): string[] => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

function keyring(raw: Buffer | string, errors: Errors): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  const text = raw.replace(/\s+/g, '');
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) {
    errors.keyring_data = ['Enter the GPG keyring as base64-encoded data (or upload it as a file).'];
    return Buffer.alloc(0);
  }
  return Buffer.from(text, 'base64');
}

/** The source's fields after applying `input` to `base`, or field errors (`__all__` for the keyring rule). */
export function applyBootSourceInput(base: BootSourceFields, input: BootSourceInput): Applied<BootSourceFields> {
  const errors: Errors = {};
  const f: BootSourceFields = { ...base };
  if (input.url !== undefined) f.url = input.url.trim();
  if (!f.url) errors.url = ['This field is required.'];
  else if (f.url.length > URL_MAX) errors.url = [`Ensure this value has at most ${URL_MAX} characters (it has ${f.url.length}).`];
  else if (!URL_RE.test(f.url)) errors.url = ['Enter a valid URL.'];
  if (input.keyring_filename !== undefined) f.keyringFilename = input.keyring_filename.trim();
  if (f.keyringFilename.length > FILENAME_MAX) errors.keyring_filename = [`Ensure this value has at most ${FILENAME_MAX} characters (it has ${f.keyringFilename.length}).`];
  else if (CONTROL.test(f.keyringFilename)) errors.keyring_filename = ['Enter a valid file path.'];
  if (input.keyring_data !== undefined) f.keyringData = keyring(input.keyring_data, errors);
  if (!errors.keyring_data) {
    if (!f.keyringFilename && f.keyringData.length === 0) errors.__all__ = ['One of keyring_data or keyring_filename must be specified.'];
    else if (f.keyringFilename && f.keyringData.length > 0) errors.__all__ = ['Only one of keyring_filename or keyring_data can be specified.'];
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, fields: f };
}

/** The selection's fields after applying `input` to `base`, or field errors. */
export function applyBootSourceSelectionInput(base: BootSourceSelectionFields, input: BootSourceSelectionInput): Applied<BootSourceSelectionFields> {
  const errors: Errors = {};
  const f: BootSourceSelectionFields = { ...base };
  for (const k of ['os', 'release'] as const) {
    const v = input[k];
    if (v !== undefined) f[k] = v.trim();
    if (!f[k]) errors[k] = ['This field is required.'];
    else if (f[k].length > NAME_MAX) errors[k] = [`Ensure this value has at most ${NAME_MAX} characters (it has ${f[k].length}).`];
    else if (!/^[\w.*-]+$/.test(f[k])) errors[k] = [`'${f[k]}' is not a valid ${k}.`];
  }
  for (const k of ['arches', 'subarches', 'labels'] as const) {
    const v = input[k];
    if (v === undefined) continue;
    f[k] = list(v);
    if (!f[k].length) f[k] = ['*'];
    const bad = f[k].find((x) => x.length > LIST_ITEM_MAX || CONTROL.test(x));
    if (bad !== undefined) errors[k] = [`'${bad.slice(0, LIST_ITEM_MAX)}' is not a valid entry of ${k}.`];
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, fields: f };
}

/** MAAS's message when (os, release) is already selected from the source. */
export const DUPLICATE_SELECTION = { __all__: ['Boot source selection with this Boot source, Os and Release already exists.'] };

/** MAAS's message when another source has the URL. */
export const DUPLICATE_URL = { url: ['Boot source with this Url already exists.'] };
