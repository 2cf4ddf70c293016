/**
 * A small YAML writer for plain data (maps, lists, strings, finite numbers, booleans, null), in
 * the block style of PyYAML's safe_dump(default_flow_style=False), which MAAS uses for the
 * documents Kiln reproduces: map keys sorted, lists at their key's indentation, empty
 * collections as [] and {}. Strings stay plain only when no YAML 1.1 reader could take them for
 * something else (numbers, booleans, null, sexagesimals such as MAC addresses); the others are
 * double-quoted with JSON escapes, which YAML accepts.
 */

export type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./+-]*$/;
const RESERVED = /^(y|n|yes|no|true|false|on|off|null|~)$/i;

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`YAML writer: ${v} is not a finite number`);
    return String(v);
  }
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

function isMap(v: YamlValue): v is { readonly [key: string]: YamlValue | undefined } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function lines(v: YamlValue, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v as readonly YamlValue[]) {
      if (isMap(item) && Object.keys(item).some((k) => item[k] !== undefined)) {
        const sub: string[] = [];
        lines(item, `${indent}  `, sub);
        // The first key goes on the dash's line.
        out.push(`${indent}- ${sub[0].slice(indent.length + 2)}`, ...sub.slice(1));
      } else if (Array.isArray(item) && item.length) {
        out.push(`${indent}-`);
        lines(item, `${indent}  `, out);
      } else out.push(`${indent}- ${inline(item)}`);
    }
    return;
  }
  if (isMap(v)) {
    for (const key of Object.keys(v).sort()) {
      const child = v[key];
      if (child === undefined) continue;
      if (Array.isArray(child) && child.length) {
        out.push(`${indent}${scalar(key)}:`);
        lines(child, indent, out);
      } else if (isMap(child) && Object.keys(child).some((k) => child[k] !== undefined)) {
        out.push(`${indent}${scalar(key)}:`);
        lines(child, `${indent}  `, out);
      } else out.push(`${indent}${scalar(key)}: ${inline(child)}`);
    }
    return;
  }
  out.push(`${indent}${inline(v)}`);
}

/** Empty collections and scalars, which fit on one line. */
function inline(v: YamlValue): string {
  if (Array.isArray(v)) return '[]';
  if (isMap(v)) return '{}';
  return scalar(v as string | number | boolean | null);
}

/** The document as YAML text, ending with a newline. Keys whose value is undefined are left out. */
export function toYaml(v: YamlValue): string {
  const out: string[] = [];
  lines(v, '', out);
  return `${out.join('\n')}\n`;
}
