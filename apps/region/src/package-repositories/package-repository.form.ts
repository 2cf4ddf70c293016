/**
 * MAAS's PackageRepositoryForm: what a package repository may be, as pure validation.
 * Default archives (main_archive, ports_archive) take disabled_components, custom ones components.
 */
export interface PackageRepository {
  id: number;
  name: string;
  url: string;
  distributions: string[];
  disabledPockets: string[];
  disabledComponents: string[];
  disableSources: boolean;
  components: string[];
  arches: string[];
  key: string;
  default: boolean;
  enabled: boolean;
}

export type PackageRepositoryFields = Omit<PackageRepository, 'id' | 'default'>;

/** What a client sent: lists as given (comma or space separated, or repeated), booleans as strings. */
export interface PackageRepositoryInput {
  name?: string;
  url?: string;
  distributions?: string[];
  disabled_pockets?: string[];
  disabled_components?: string[];
  disable_sources?: string;
  components?: string[];
  arches?: string[];
  key?: string;
  enabled?: string;
}

export const KNOWN_ARCHES = ['amd64', 'i386', 'armhf', 'arm64', 'ppc64el', 's390x', 'riscv64'];
export const POCKETS = ['updates', 'security', 'backports'];
export const COMPONENTS = ['main', 'restricted', 'universe', 'multiverse'];

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no', '']);

const list = (values: string[]): string[] => values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

/** The repository's fields after applying `input` to `base`, or field errors. */
export function applyPackageRepositoryInput(
  base: PackageRepositoryFields & { default: boolean },
  input: PackageRepositoryInput,
): { ok: true; fields: PackageRepositoryFields } | { ok: false; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  const f: PackageRepositoryFields = { ...base };
  if (input.name !== undefined) f.name = input.name.trim();
  if (!f.name) errors.name = ['This field is required.'];
  else if (f.name.length > 41) errors.name = ['Ensure this value has at most 41 characters.'];
  if (input.url !== undefined) f.url = input.url.trim();
  if (!f.url) errors.url = ['This field is required.'];
  else if (!/^(https?|ftp|file):\/\/\S+$/.test(f.url) && !/^ppa:[\w.-]+\/[\w.-]+$/.test(f.url)) errors.url = ['Enter a valid URL.'];
  if (input.distributions) f.distributions = list(input.distributions);
  if (input.disabled_pockets) {
    f.disabledPockets = list(input.disabled_pockets);
    const bad = f.disabledPockets.filter((p) => !POCKETS.includes(p));
    if (bad.length) errors.disabled_pockets = [`'${bad[0]}' is not a valid pocket (valid pockets are: ${POCKETS.join(', ')}).`];
  }
  if (input.disabled_components) {
    f.disabledComponents = list(input.disabled_components);
    if (!base.default && f.disabledComponents.length) errors.disabled_components = ['This is a custom repository. Please update \'components\' instead.'];
    const bad = f.disabledComponents.filter((c) => !COMPONENTS.includes(c));
    if (bad.length) errors.disabled_components = [`'${bad[0]}' is not a valid component (valid components are: ${COMPONENTS.join(', ')}).`];
  }
  if (input.components) {
    f.components = list(input.components);
    if (base.default && f.components.length) errors.components = ["This is a default Ubuntu repository. Please update 'disabled_components' instead."];
  }
  if (input.arches) {
    f.arches = list(input.arches);
    const bad = f.arches.filter((a) => !KNOWN_ARCHES.includes(a));
    if (bad.length) errors.arches = [`'${bad[0]}' is not a valid architecture. Known architectures: ${KNOWN_ARCHES.join(', ')}.`];
  }
  if (input.key !== undefined) f.key = input.key;
  for (const [k, field] of [['disable_sources', 'disableSources'], ['enabled', 'enabled']] as const) {
    const raw = input[k];
    if (raw === undefined) continue;
    const w = raw.trim().toLowerCase();
    if (TRUE.has(w)) f[field] = true;
    else if (FALSE.has(w)) f[field] = false;
    else errors[k] = [`'${raw}' value must be either True or False.`];
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, fields: f };
}
