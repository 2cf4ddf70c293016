import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { builtinScripts, BuiltinScript, HARDWARE_TYPE_CODES, PARALLEL_CODES, SCRIPT_TYPE_CODES } from '@kiln/scripts';
import { log } from '../logging/logger';
import { ScriptFields, ScriptsRepository } from './scripts.repository';

export interface SeedReport {
  added: string[];
  updated: string[];
  /** Names held by an operator's own script, which the built-in does not replace. */
  shadowed: string[];
}

/**
 * Keeps the `scripts` table's built-in scripts (MAAS's names, from @kiln/scripts) in step with the
 * region's code at start-up: a missing one is added, a changed one gets a new revision (keeping
 * the tags and timeout an operator may have set, the only fields MAAS lets them change), an
 * unchanged one is left alone. Regions starting side by side take turns (advisory lock).
 */
@Injectable()
export class BuiltinScriptsSeeder implements OnModuleInit {
  constructor(private readonly scripts: ScriptsRepository) {}

  async onModuleInit(): Promise<void> {
    const report = await this.seed();
    if (report.added.length || report.updated.length) {
      log().info({ added: report.added.length, updated: report.updated.length }, 'built-in scripts seeded');
    }
    for (const name of report.shadowed) log().warn({ script: name }, 'a custom script holds a built-in script name; the built-in is not installed');
  }

  async seed(catalogue: BuiltinScript[] = builtinScripts()): Promise<SeedReport> {
    return this.scripts.transaction(async (em) => {
      await this.scripts.lockBuiltinSeeding(em);
      const report: SeedReport = { added: [], updated: [], shadowed: [] };
      for (const script of catalogue) {
        const text = Buffer.from(script.text, 'utf8');
        const sha256 = createHash('sha256').update(text).digest('hex');
        const fields = builtinFields(script);
        const head = await this.scripts.findHead(em, script.name);
        if (!head) {
          await this.scripts.insert(em, fields, text, sha256, 'Built-in script');
          report.added.push(script.name);
        } else if (!head.isDefault) {
          report.shadowed.push(script.name);
        } else if (head.sha256 !== sha256) {
          await this.scripts.updateKeepingTagsAndTimeout(em, head.id, fields, text, sha256, 'Built-in script updated');
          report.updated.push(script.name);
        }
      }
      return report;
    });
  }
}

function builtinFields(s: BuiltinScript): ScriptFields {
  const m = s.metadata;
  return {
    name: s.name,
    title: m.title ?? '',
    description: m.description ?? '',
    tags: m.tags,
    scriptType: SCRIPT_TYPE_CODES[m.scriptType],
    hardwareType: HARDWARE_TYPE_CODES[m.hardwareType],
    parallel: PARALLEL_CODES[m.parallel],
    timeoutSeconds: m.timeoutSeconds,
    destructive: m.destructive,
    mayReboot: m.mayReboot,
    recommission: m.recommission,
    applyConfiguredNetworking: m.applyConfiguredNetworking,
    forHardware: m.forHardware,
    packages: m.packages as unknown as Record<string, unknown>,
    parameters: m.parameters as unknown as Record<string, unknown>,
    results: Object.fromEntries(m.results.map((r) => [r.key, { title: r.title, description: r.description }])),
    isDefault: true,
  };
}
