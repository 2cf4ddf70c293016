/**
 * MAAS's configuration settings (`maas/` get_config / set_config): names, defaults and validation
 * as MAAS 3.x's `models/config.py` and `forms/settings.py` give them. Pure: no Nest, no database.
 *
 * `acted` says whether Kiln does anything with the value today. The others are stored and read back
 * as MAAS would, and listed as such in describe/ and the README, never silently dropped.
 */
import { hostname } from 'node:os';
import { parseBool } from '../common/values';

export type ConfigValue = string | number | boolean | null;

export interface ConfigSetting {
  name: string;
  default: ConfigValue;
  /** The stored value for what a client sent, or an error message (MAAS's form error). */
  parse(raw: string): { ok: true; value: ConfigValue } | { ok: false; error: string };
  /** What Kiln does with it, or undefined when it is only stored. */
  acted?: string;
  /** A credential (MAAS keeps these in its secrets store): sealed at rest, read by administrators only. */
  secret?: boolean;
}

type Parse = ConfigSetting['parse'];

const ok = (value: ConfigValue) => ({ ok: true as const, value });
const fail = (error: string) => ({ ok: false as const, error });

const str = (opts: { nullable?: boolean; max?: number } = {}): Parse => (raw) => {
  const v = raw.trim();
  if (v === '') return ok(opts.nullable ? null : '');
  if (opts.max && v.length > opts.max) return fail(`Ensure this value has at most ${opts.max} characters (it has ${v.length}).`);
  return ok(v);
};

const bool: Parse = (raw) => {
  // Django's BooleanField over a form value: '' and the false words are False.
  if (raw.trim() === '') return ok(false);
  const b = parseBool(raw);
  return b === undefined ? fail(`'${raw}' value must be either True or False.`) : ok(b);
};

const int = (min?: number, max?: number): Parse => (raw) => {
  if (!/^\s*-?\d+\s*$/.test(raw)) return fail('Enter a whole number.');
  const n = Number(raw);
  if (min !== undefined && n < min) return fail(`Ensure this value is greater than or equal to ${min}.`);
  if (max !== undefined && n > max) return fail(`Ensure this value is less than or equal to ${max}.`);
  return ok(n);
};

const choice = (choices: readonly (string | number)[], numeric = false): Parse => (raw) => {
  const v = raw.trim();
  const found = choices.find((c) => String(c) === v);
  if (found === undefined) return fail(`Select a valid choice. ${v} is not one of the available choices.`);
  return ok(numeric ? Number(found) : found);
};

/** Space or comma separated host names or addresses (ntp_servers, upstream_dns). */
const hostList = (nullable: boolean): Parse => (raw) => {
  const parts = raw.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return ok(nullable ? null : '');
  const bad = parts.find((p) => !/^[A-Za-z0-9.:_-]+$/.test(p));
  if (bad) return fail(`Invalid hostname or address: ${bad}.`);
  return ok(parts.join(' '));
};

const url: Parse = (raw) => {
  const v = raw.trim();
  if (v === '') return ok(null);
  try {
    const u = new URL(v);
    if (!['http:', 'https:'].includes(u.protocol)) return fail('Enter a valid URL.');
    return ok(v);
  } catch {
    return fail('Enter a valid URL.');
  }
};

const SERIES = /^[a-z0-9][a-z0-9.-]*$/;
const series: Parse = (raw) => {
  const v = raw.trim();
  if (v === '') return ok('');
  return SERIES.test(v) ? ok(v) : fail(`Select a valid choice. ${v} is not one of the available choices.`);
};

/** MAAS's `active_discovery_interval` choices, in seconds (0 = never). */
export const ACTIVE_DISCOVERY_INTERVALS = [0, 604800, 86400, 43200, 21600, 10800, 3600, 1800, 600] as const;

export const STORAGE_LAYOUT_CHOICES = ['flat', 'lvm', 'bcache', 'vmfs6', 'vmfs7', 'custom', 'blank'] as const;

const S = (name: string, def: ConfigValue, parse: Parse, acted?: string): ConfigSetting => ({ name, default: def, parse, ...(acted ? { acted } : {}) });

/** Every setting MAAS 3.x's API reads and writes, in MAAS's order. */
export const CONFIG_SETTINGS: readonly ConfigSetting[] = [
  S('commissioning_osystem', 'ubuntu', choice(['ubuntu'])),
  S('commissioning_distro_series', 'jammy', series),
  S('default_dns_ttl', 30, int(1)),
  S('default_min_hwe_kernel', '', str()),
  S('default_storage_layout', 'flat', choice(STORAGE_LAYOUT_CHOICES)),
  S('kernel_opts', null, str({ nullable: true }), 'appended to the kernel command line of every netboot (enlistment, commissioning, testing, rescue, deployment)'),
  S('maas_url', 'http://localhost:5240/MAAS', url),
  S('maas_name', hostname(), str({ max: 255 })),
  S('theme', '', str()),
  S('default_osystem', 'debian', choice(['debian', 'ubuntu', 'centos', 'rhel', 'windows', 'custom']), 'the OS a deployment uses when none is given (Kiln builds Debian images)'),
  S('default_distro_series', 'bookworm', series, 'the series a deployment uses when none is given'),
  S('enable_http_proxy', true, bool),
  S('maas_proxy_port', 8000, int(5300, 65535)),
  S('use_peer_proxy', false, bool),
  S('http_proxy', null, url),
  S('prefer_v4_proxy', false, bool),
  S('upstream_dns', null, hostList(true)),
  S('dnssec_validation', 'auto', choice(['auto', 'yes', 'no'])),
  S('dns_trusted_acl', null, str({ nullable: true })),
  S('maas_internal_domain', 'maas-internal', str()),
  S('ntp_servers', 'ntp.ubuntu.com', hostList(false)),
  S('ntp_external_only', false, bool),
  S('remote_syslog', null, str({ nullable: true })),
  S('maas_syslog_port', 5247, int(5247, 65535)),
  S('network_discovery', 'enabled', choice(['enabled', 'disabled'])),
  S('active_discovery_interval', 10800, choice(ACTIVE_DISCOVERY_INTERVALS, true)),
  S('boot_images_auto_import', true, bool),
  S('boot_images_no_proxy', false, bool),
  S('enable_third_party_drivers', true, bool),
  S('enable_disk_erasing_on_release', false, bool),
  S('disk_erase_with_secure_erase', true, bool),
  S('disk_erase_with_quick_erase', false, bool),
  S('curtin_verbose', true, bool),
  S('force_v1_network_yaml', false, bool),
  S('enable_analytics', true, bool),
  S('completed_intro', false, bool),
  S('max_node_commissioning_results', 10, int(1)),
  S('max_node_testing_results', 10, int(1)),
  S('max_node_installation_results', 3, int(1)),
  S('subnet_ip_exhaustion_threshold_count', 16, int(0)),
  S('release_notifications', true, bool),
  S('use_rack_proxy', true, bool),
  S('node_timeout', 30, int(1)),
  S('prometheus_enabled', false, bool),
  S('prometheus_push_gateway', null, str({ nullable: true })),
  S('prometheus_push_interval', 60, int(1)),
  S('promtail_enabled', false, bool),
  S('promtail_port', 5238, int(1, 65535)),
  S('enlist_commissioning', true, bool),
  S('maas_auto_ipmi_user', 'maas', str({ max: 20 })),
  S('maas_auto_ipmi_user_privilege_level', 'ADMIN', choice(['USER', 'OPERATOR', 'ADMIN'])),
  S('maas_auto_ipmi_k_g_bmc_key', '', str()),
  S('maas_auto_ipmi_cipher_suite_id', '3', choice(['17', '3', '8', '12', ''])),
  S('maas_auto_ipmi_workaround_flags', null, str({ nullable: true })),
  S('vcenter_server', '', str()),
  S('vcenter_username', '', str()),
  S('vcenter_password', '', str()),
  S('vcenter_datacenter', '', str()),
  S('hardware_sync_interval', '15m', (raw) => (/^\s*(\d+[hms]\s*)+$/.test(raw) ? ok(raw.trim()) : fail('Invalid interval: use a duration such as 15m or 1h30m.'))),
  S('tls_cert_expiration_notification_enabled', false, bool),
  S('tls_cert_expiration_notification_interval', 30, int(1, 90)),
  S('windows_kms_host', null, str({ nullable: true })),
  S('session_length', 1209600, int(60, 2592000)),
];

/** MAAS's CONFIG_SECRETS that the API reads and writes. */
const SECRETS = new Set(['maas_auto_ipmi_k_g_bmc_key', 'vcenter_password']);
for (const s of CONFIG_SETTINGS) if (SECRETS.has(s.name)) s.secret = true;

const BY_NAME = new Map(CONFIG_SETTINGS.map((s) => [s.name, s]));

/**
 * MAAS's renamed settings: the old name reads and writes the new one (MAAS's api/maas.py rewrites
 * ntp_server to ntp_servers; python-libmaas's get_ntp_server/set_ntp_server still use the old name).
 */
const RENAMED: Record<string, string> = { http_proxy_host: 'http_proxy', ntp_server: 'ntp_servers' };

export function configSetting(name: string): ConfigSetting | undefined {
  return BY_NAME.get(RENAMED[name] ?? name);
}

export interface ArchiveSetting {
  /** The default package repository this setting stands for: the first default one with any of these. */
  arches: readonly string[];
  parse: Parse;
}

const requiredUrl: Parse = (raw) => (raw.trim() === '' ? fail('This field is required.') : url(raw));

/**
 * MAAS's settings that moved out of its config table into the default package repositories
 * (`migrated_config_values` in MAAS's api/maas.py): get_config answers the URL of the default
 * repository for these architectures (MAAS's PackageRepository.MAIN_ARCHES / PORTS_ARCHES) and
 * set_config changes it. python-libmaas's get_main_archive/get_ports_archive read them.
 */
const ARCHIVE_SETTINGS: Readonly<Record<string, ArchiveSetting>> = {
  main_archive: { arches: ['amd64', 'i386'], parse: requiredUrl },
  ports_archive: { arches: ['armhf', 'arm64', 'ppc64el', 's390x'], parse: requiredUrl },
};

export function archiveSetting(name: string): ArchiveSetting | undefined {
  return Object.prototype.hasOwnProperty.call(ARCHIVE_SETTINGS, name) ? ARCHIVE_SETTINGS[name] : undefined;
}

/** The names of settings Kiln stores without acting on them (README and describe/ list them). */
export const STORED_ONLY = CONFIG_SETTINGS.filter((s) => !s.acted).map((s) => s.name);

/** The `:param name:` doc of get_config/set_config: every name, and which ones Kiln acts on. */
export function configNamesDoc(): string {
  const acted = CONFIG_SETTINGS.filter((s) => s.acted).map((s) => `${s.name} (${s.acted})`);
  return (
    `The name of the configuration item. Available items: ${CONFIG_SETTINGS.map((s) => s.name).join(', ')}. ` +
    `Also ${Object.keys(ARCHIVE_SETTINGS).join(', ')} (the URL of the default package repositories) and ntp_server (ntp_servers). ` +
    `Kiln acts on: ${acted.join('; ')}. The others are stored and read back but not acted on yet.`
  );
}
