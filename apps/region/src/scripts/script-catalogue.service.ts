import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { applyScriptForm, type ScriptFormInput } from './script.form';
import { HARDWARE_TYPE_ERROR, SCRIPT_TYPE_ERROR, translateHardwareType, translateScriptType } from './script.names';
import { scriptFields, ScriptRow, ScriptsRepository, ScriptVersionRow } from './scripts.repository';

/** A script with its revisions (newest first), as the API shows it. */
export interface ScriptView {
  script: ScriptRow;
  history: ScriptVersionRow[];
}

export interface ScriptListFilter {
  type?: string;
  hardwareType?: string;
  /** Names or tags: a script is listed when its name or one of its tags is among them. */
  filters?: string[];
  includeScript: boolean;
}

const NOT_FOUND = 'No Script matches the given query.';

/**
 * The operator's side of the script catalogue (MAAS NodeScripts/NodeScript handlers): list, create,
 * update with a new revision per changed text, revert, tag, delete. Built-in scripts take only
 * tags and timeout, and are neither deleted nor reverted.
 */
@Injectable()
export class ScriptCatalogueService {
  constructor(private readonly scripts: ScriptsRepository) {}

  async list(f: ScriptListFilter): Promise<ScriptView[]> {
    let scriptType: number | undefined;
    let hardwareType: number | undefined;
    if (f.type !== undefined) {
      scriptType = translateScriptType(f.type);
      if (scriptType === undefined) throw invalid(SCRIPT_TYPE_ERROR);
    }
    if (f.hardwareType !== undefined) {
      hardwareType = translateHardwareType(f.hardwareType);
      if (hardwareType === undefined) throw invalid(HARDWARE_TYPE_ERROR);
    }
    let rows = await this.scripts.listScripts({ scriptType, hardwareType });
    if (f.filters) {
      const wanted = new Set(f.filters);
      rows = rows.filter((s) => wanted.has(s.name) || s.tags.some((t) => wanted.has(t)));
    }
    return this.withHistory(rows, f.includeScript);
  }

  async get(nameOrId: string, includeScript: boolean): Promise<ScriptView> {
    const [view] = await this.withHistory([await this.find(nameOrId)], includeScript);
    return view;
  }

  async create(input: ScriptFormInput): Promise<ScriptView> {
    const id = await this.scripts.transaction(async (em) => {
      const form = applyScriptForm(null, input);
      if (!form.ok) throw invalid(form.errors);
      if (await this.scripts.nameTaken(em, form.fields.name, -1)) throw invalid({ name: ['Script with this Name already exists.'] });
      const text = Buffer.from(form.text ?? '', 'utf8');
      return this.scripts.insert(em, form.fields, text, sha256(text), form.comment);
    });
    return this.get(String(id), false);
  }

  async update(nameOrId: string, input: ScriptFormInput): Promise<ScriptView> {
    const id = await this.scripts.transaction(async (em) => {
      const current = await this.scripts.findScript(nameOrId, em);
      if (!current) throw notFound(NOT_FOUND);
      const form = applyScriptForm(scriptFields(current), input);
      if (!form.ok) throw invalid(form.errors);
      if (form.fields.name !== current.name && (await this.scripts.nameTaken(em, form.fields.name, current.id))) {
        throw invalid({ name: ['Script with this Name already exists.'] });
      }
      await this.scripts.updateAll(em, current.id, form.fields);
      if (form.text !== undefined) {
        const text = Buffer.from(form.text, 'utf8');
        // MAAS keeps one revision per change: the same text again is not a new revision.
        if (!current.data || !text.equals(current.data)) await this.scripts.addRevision(em, current.id, text, sha256(text), form.comment);
      }
      return current.id;
    });
    return this.get(String(id), false);
  }

  async delete(nameOrId: string): Promise<void> {
    const script = await this.find(nameOrId);
    if (script.is_default) throw invalid('Unable to delete default script');
    await this.scripts.deleteScript(script.id);
  }

  /** The current text, or one revision's (`revision`: a revision id from the script's history). */
  async download(nameOrId: string, revision?: number): Promise<Buffer> {
    const script = await this.find(nameOrId);
    if (revision === undefined) return script.data ?? Buffer.alloc(0);
    const data = await this.scripts.revisionData(script.id, revision);
    if (!data) throw invalid(`${revision} not found in history`);
    return data;
  }

  /** Goes back to a revision: its id, or a negative count of revisions back (-1: the one before). */
  async revert(nameOrId: string, to: number): Promise<ScriptView> {
    const id = await this.scripts.transaction(async (em) => {
      const script = await this.scripts.findScript(nameOrId, em);
      if (!script) throw notFound(NOT_FOUND);
      if (script.is_default) throw invalid('Unable to revert default script');
      if (to === 0) return script.id;
      const history = (await this.scripts.history([script.id], false)).map((v) => v.id);
      let target: number | undefined;
      if (to < 0) {
        if (-to >= history.length) throw invalid('Goes too far back.');
        target = history[-to];
      } else {
        target = history.find((v) => v === to);
        if (target === undefined) throw invalid(`${to} not found in history`);
      }
      await this.scripts.revertTo(em, script.id, target);
      return script.id;
    });
    return this.get(String(id), false);
  }

  async addTag(nameOrId: string, tag: string): Promise<ScriptView> {
    if (tag.includes(',')) throw invalid('Tag may not contain a ",".');
    const script = await this.find(nameOrId);
    if (!script.tags.includes(tag)) await this.scripts.setTags(script.id, [...script.tags, tag]);
    return this.get(String(script.id), false);
  }

  async removeTag(nameOrId: string, tag: string): Promise<ScriptView> {
    const script = await this.find(nameOrId);
    await this.scripts.setTags(
      script.id,
      script.tags.filter((t) => t !== tag),
    );
    return this.get(String(script.id), false);
  }

  private async find(nameOrId: string): Promise<ScriptRow> {
    const script = await this.scripts.findScript(nameOrId);
    if (!script) throw notFound(NOT_FOUND);
    return script;
  }

  private async withHistory(rows: ScriptRow[], withData: boolean): Promise<ScriptView[]> {
    const versions = await this.scripts.history(
      rows.map((r) => r.id),
      withData,
    );
    const byScript = new Map<number, ScriptVersionRow[]>();
    for (const v of versions) {
      const list = byScript.get(v.script_id) ?? [];
      list.push(v);
      byScript.set(v.script_id, list);
    }
    return rows.map((script) => ({ script, history: byScript.get(script.id) ?? [] }));
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
