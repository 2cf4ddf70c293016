/**
 * Kiln's built-in scripts (reference maas-api.md §5.5): real files in the library's `builtin/`
 * folder, each with its embedded metadata block, loaded with their parsed metadata. The region
 * seeds its script table from this catalogue.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScript, type ScriptMetadata } from './script-metadata.parser';

export const BUILTIN_DIR = join(__dirname, '..', 'builtin');

export interface BuiltinScript {
  name: string;
  /** The script's text, as served in the maas-scripts tar. */
  text: string;
  metadata: ScriptMetadata & { name: string };
}

/** Every built-in script, sorted by name. Throws if a file is not a valid script (a build error). */
export function builtinScripts(dir = BUILTIN_DIR): BuiltinScript[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.md'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const parsed = parseScript(text);
      if (!parsed.ok) throw new Error(`built-in script ${file}: ${parsed.errors.map((e) => `${e.key ?? `line ${e.line}`}: ${e.message}`).join('; ')}`);
      const { metadata } = parsed.value;
      if (metadata.name !== file) throw new Error(`built-in script ${file} names itself ${String(metadata.name)}`);
      return { name: file, text, metadata: { ...metadata, name: file } };
    });
}

export function builtinScript(name: string, dir = BUILTIN_DIR): BuiltinScript | undefined {
  return builtinScripts(dir).find((s) => s.name === name);
}
