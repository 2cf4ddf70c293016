import { CONFIG_SETTINGS, STORED_ONLY, configNamesDoc, configSetting } from './config.catalogue';

const parse = (name: string, raw: string) => configSetting(name)!.parse(raw);

describe('MAAS configuration catalogue', () => {
  it('has the settings python-libmaas and the CLI ask for, with MAAS defaults', () => {
    const defaults = Object.fromEntries(CONFIG_SETTINGS.map((s) => [s.name, s.default]));
    expect(defaults).toMatchObject({
      default_osystem: 'debian',
      default_distro_series: 'bookworm',
      commissioning_distro_series: 'jammy',
      kernel_opts: null,
      enable_third_party_drivers: true,
      ntp_servers: 'ntp.ubuntu.com',
      ntp_external_only: false,
      upstream_dns: null,
      dnssec_validation: 'auto',
      enlist_commissioning: true,
      default_min_hwe_kernel: '',
      default_storage_layout: 'flat',
      completed_intro: false,
      network_discovery: 'enabled',
      active_discovery_interval: 10800,
      max_node_commissioning_results: 10,
    });
    expect(typeof defaults.maas_name).toBe('string');
    expect(new Set(CONFIG_SETTINGS.map((s) => s.name)).size).toBe(CONFIG_SETTINGS.length);
  });

  it('parses form values into typed values and refuses what MAAS refuses', () => {
    expect(parse('enable_third_party_drivers', 'false')).toEqual({ ok: true, value: false });
    expect(parse('enable_third_party_drivers', 'True')).toEqual({ ok: true, value: true });
    expect(parse('enable_third_party_drivers', 'maybe').ok).toBe(false);
    expect(parse('active_discovery_interval', '3600')).toEqual({ ok: true, value: 3600 });
    expect(parse('active_discovery_interval', '3601').ok).toBe(false);
    expect(parse('dnssec_validation', 'no')).toEqual({ ok: true, value: 'no' });
    expect(parse('dnssec_validation', 'perhaps').ok).toBe(false);
    expect(parse('default_storage_layout', 'lvm')).toEqual({ ok: true, value: 'lvm' });
    expect(parse('default_storage_layout', 'zfs').ok).toBe(false);
    expect(parse('ntp_servers', 'a.example, 10.0.0.1')).toEqual({ ok: true, value: 'a.example 10.0.0.1' });
    expect(parse('ntp_servers', 'bad/host').ok).toBe(false);
    expect(parse('upstream_dns', '')).toEqual({ ok: true, value: null });
    expect(parse('max_node_commissioning_results', '0').ok).toBe(false);
    expect(parse('max_node_commissioning_results', 'ten').ok).toBe(false);
    expect(parse('kernel_opts', 'console=ttyS0')).toEqual({ ok: true, value: 'console=ttyS0' });
    expect(parse('kernel_opts', '')).toEqual({ ok: true, value: null });
    expect(parse('http_proxy', 'ftp://x').ok).toBe(false);
  });

  it('names what Kiln acts on and what it only stores', () => {
    expect(STORED_ONLY).toContain('ntp_servers');
    expect(STORED_ONLY).not.toContain('default_distro_series');
    expect(configNamesDoc()).toMatch(/default_distro_series \(/);
    expect(configSetting('nope')).toBeUndefined();
  });
});
