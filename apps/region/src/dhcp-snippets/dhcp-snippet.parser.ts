/**
 * DHCP snippets are ISC dhcpd configuration text (MAAS writes them into dhcpd.conf). Kiln's rack
 * runs its own DHCP server, so a snippet is accepted only when every statement in it is an option
 * that server's codec can send (`libs/protocol/src/dhcp4`); anything else is refused, naming the
 * statement. Pure.
 */
export interface SnippetOptions {
  /** 6 */ dnsServers?: string[];
  /** 15 */ domainName?: string;
  /** 3 */ routers?: string[];
  /** 26 */ interfaceMtu?: number;
  /** 42 */ ntpServers?: string[];
  /** 119 */ domainSearch?: string[];
}

export type SnippetParse = { ok: true; options: SnippetOptions } | { ok: false; error: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;

type Kind = { field: keyof SnippetOptions; parse(args: string): SnippetOptions[keyof SnippetOptions] | null };

const ipList = (args: string) => {
  const ips = args.split(',').map((s) => s.trim());
  return ips.length && ips.every((ip) => IPV4.test(ip)) ? ips : null;
};
const unquote = (s: string) => (/^"[^"]*"$/.test(s) ? s.slice(1, -1) : null);

/** The options Kiln's DHCP server applies, by their dhcpd name (MTU as the racks take it: 552 and up). */
export const SUPPORTED_OPTIONS: Record<string, Kind> = {
  'domain-name-servers': { field: 'dnsServers', parse: ipList },
  routers: { field: 'routers', parse: ipList },
  'ntp-servers': { field: 'ntpServers', parse: ipList },
  'domain-name': {
    field: 'domainName',
    parse: (a) => {
      const d = unquote(a.trim());
      return d !== null && DOMAIN.test(d) ? d : null;
    },
  },
  'domain-search': {
    field: 'domainSearch',
    parse: (a) => {
      const ds = a.split(',').map((s) => unquote(s.trim()));
      if (!ds.length || !ds.every((d) => d !== null && DOMAIN.test(d))) return null;
      // One option 119 in DNS wire format: each label's length byte and bytes, a zero per name.
      const wire = (ds as string[]).reduce((n, d) => n + d.replace(/\.$/, '').length + 2, 0);
      return wire <= 255 ? (ds as string[]) : null;
    },
  },
  'interface-mtu': {
    field: 'interfaceMtu',
    parse: (a) => (/^\d+$/.test(a.trim()) && Number(a) >= 552 && Number(a) <= 65535 ? Number(a) : null),
  },
};

const SUPPORTED_LIST = Object.keys(SUPPORTED_OPTIONS).map((o) => `option ${o}`).join(', ');

/** Statements of `text`: comments removed, split on `;` outside quotes. */
function statements(text: string): { stmts: string[]; trailing: string } {
  const stmts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quoted && c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && c === ';') {
      stmts.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  return { stmts: stmts.filter((s) => s !== ''), trailing: cur.trim() };
}

/**
 * The options the snippets give a subnet: global snippets first, then the subnet's own, each in
 * the order they were created, a later value replacing an earlier one. Snippets that no longer
 * parse are skipped (they were checked when stored).
 */
export function mergeSnippetOptions(values: readonly string[]): SnippetOptions {
  const out: SnippetOptions = {};
  for (const v of values) {
    const p = parseDhcpSnippet(v);
    if (p.ok) Object.assign(out, p.options);
  }
  return out;
}

export function parseDhcpSnippet(text: string): SnippetParse {
  const { stmts, trailing } = statements(text);
  if (trailing) return { ok: false, error: `Statement '${trailing.replace(/\s+/g, ' ')}' is not terminated with ';'.` };
  if (!stmts.length) return { ok: false, error: 'The snippet has no statement.' };
  const options: SnippetOptions = {};
  for (const raw of stmts) {
    const s = raw.replace(/\s+/g, ' ');
    const m = /^option ([a-z0-9-]+) (.+)$/.exec(s);
    const kind = m ? SUPPORTED_OPTIONS[m[1]] : undefined;
    if (!m || !kind) return { ok: false, error: `Kiln's DHCP server cannot apply '${s}': it applies only ${SUPPORTED_LIST}.` };
    const value = kind.parse(m[2]);
    if (value === null) return { ok: false, error: `Invalid value in '${s}'.` };
    (options as Record<string, unknown>)[kind.field] = value;
  }
  return { ok: true, options };
}
