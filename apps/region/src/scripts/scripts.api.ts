import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { formatRfc2822 } from '../api/http/maas-time';
import { parseBool } from '../api/http/params';
import { ScriptCatalogueService, type ScriptView } from './script-catalogue.service';
import { SCRIPT_FORM_FIELDS, type ScriptFormInput } from './script.form';
import { formatDuration, HARDWARE_TYPE_NAMES, PARALLEL_NAMES, SCRIPT_TYPE_NAMES } from './script.names';

const API = '/MAAS/api/2.0';

/** MAAS's script JSON (NodeScriptHandler, reference §2.10), with its revisions as `history`. */
export function scriptJson({ script: s, history }: ScriptView) {
  return {
    id: s.id,
    name: s.name,
    title: s.title,
    description: s.description,
    tags: s.tags,
    type: s.script_type,
    type_name: SCRIPT_TYPE_NAMES[s.script_type] ?? '',
    hardware_type: s.hardware_type,
    hardware_type_name: HARDWARE_TYPE_NAMES[s.hardware_type] ?? '',
    parallel: s.parallel,
    parallel_name: PARALLEL_NAMES[s.parallel] ?? '',
    results: s.results,
    parameters: s.parameters,
    packages: s.packages,
    timeout: formatDuration(s.timeout_seconds),
    destructive: s.destructive,
    for_hardware: s.for_hardware,
    may_reboot: s.may_reboot,
    recommission: s.recommission,
    history: history.map((v) => ({
      id: v.id,
      comment: v.comment,
      created: formatRfc2822(v.created),
      ...(v.data ? { data: v.data.toString('base64') } : {}),
    })),
    default: s.is_default,
    apply_configured_networking: s.apply_configured_networking,
    resource_uri: `${API}/scripts/${encodeURIComponent(s.name)}`,
  };
}

const FORM_DOCS: ParamDoc[] = [
  { name: 'title', doc: 'The title of the script.' },
  { name: 'description', doc: 'A description of what the script does.' },
  { name: 'tags', doc: 'A comma seperated list of tags for this script.' },
  { name: 'type', doc: 'The script_type defines when the script should be used: ``testing``, ``commissioning``, ``release`` or ``deployment``. Defaults to ``testing``.' },
  { name: 'hardware_type', doc: 'The hardware_type defines what type of hardware the script is assoicated with. May be CPU, memory, storage, network, GPU or node.' },
  { name: 'parallel', type: 'Int', doc: 'Whether the script may be run in parallel with other scripts: disabled, instance (along scripts with the same name) or any.' },
  { name: 'timeout', type: 'Int', doc: 'How long the script is allowed to run before failing (seconds or HH:MM:SS). 0 gives unlimited time, defaults to 0.' },
  { name: 'destructive', type: 'Boolean', doc: 'Whether or not the script overwrites data on any drive on the running system. Destructive scripts can not be run on deployed systems. Defaults to false.' },
  { name: 'script', doc: 'The content of the script to be uploaded in binary form. Note: this is not a normal parameter, but a file upload. Its filename is ignored; MAAS will know it by the name you pass to the request. Optionally you can ignore the name and script parameter in favor of uploading a single file as part of the request.' },
  { name: 'comment', doc: 'A comment about what this change does.' },
  { name: 'for_hardware', doc: 'A list of modalias, PCI IDs, and/or USB IDs the script will automatically run on. Must start with ``modalias:``, ``pci:``, or ``usb:``.' },
  { name: 'may_reboot', type: 'Boolean', doc: 'Whether or not the script may reboot the system while running.' },
  { name: 'recommission', type: 'Boolean', doc: 'Whether built-in commissioning scripts should be rerun after successfully running this scripts.' },
  { name: 'apply_configured_networking', type: 'Boolean', doc: 'Whether to apply the provided network configuration before the script runs.' },
];

/** What a create/update request says: its form fields and the uploaded script (MAAS's rules for files). */
function formInput(r: ApiRequest): ScriptFormInput {
  const fields: ScriptFormInput['fields'] = {};
  for (const f of [...SCRIPT_FORM_FIELDS, 'type', 'comment'] as const) {
    const v = r.params.get(f);
    if (v !== undefined) fields[f] = v;
  }
  const input: ScriptFormInput = { fields };
  const upload = r.params.files.get('script');
  if (upload) {
    input.script = upload.data.toString('utf8');
  } else if (r.params.files.size === 1) {
    // A single uploaded file: its field name is the script's name.
    const [[name, file]] = [...r.params.files];
    fields.name = name;
    input.script = file.data.toString('utf8');
  } else if (r.params.get('script') !== undefined) {
    // Clients that send the text as an ordinary field (gomaasclient without a file).
    input.script = r.params.get('script');
  }
  return input;
}

/** A comma-separated `filters` parameter, or undefined when absent. */
function filtersOf(r: ApiRequest): string[] | undefined {
  const f = r.params.get('filters');
  return f === undefined ? undefined : f.split(',');
}

/** Any non-empty value turns include_script on (MAAS reads it with Python's bool()), except a false word. */
function flag(v: string | undefined): boolean {
  return v !== undefined && v !== '' && parseBool(v) !== false;
}

function integer(r: ApiRequest, name: string, required: boolean): number | undefined {
  const v = r.params.get(name);
  if (v === undefined) {
    if (required) throw new BadRequestError(`No provided ${name}!`);
    return undefined;
  }
  if (!/^\s*-?\d+\s*$/.test(v)) throw new BadRequestError(`Invalid ${name}: Please enter an integer value`);
  return Number(v);
}

/** scripts/ (NodeScriptsHandler) and scripts/{name} (NodeScriptHandler). */
@Injectable()
export class ScriptsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly catalogue: ScriptCatalogueService,
  ) {}

  onModuleInit() {
    const name = (r: ApiRequest) => r.pathParams.name;
    this.registry.register(
      {
        auth: {
          name: 'NodeScriptsHandler',
          doc: 'Manage custom scripts.\n\nThis functionality is only available to administrators.',
          path: `${API}/scripts/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List stored scripts',
              description: 'Return a list of stored scripts.',
              params: [
                { name: 'type', doc: 'Only return scripts with the given type. This can be ``testing``, ``commissioning``, ``release`` or ``deployment``. Defaults to showing all.' },
                { name: 'hardware_type', doc: 'Only return scripts for the given hardware type. Can be ``cpu``, ``memory``, ``storage``, ``network``, ``gpu`` or ``node``. Defaults to all.' },
                { name: 'include_script', doc: 'Include the base64-encoded script content.' },
                { name: 'filters', doc: 'A comma seperated list to show only results with a script name or tag.' },
              ],
              run: async (r) => {
                const views = await this.catalogue.list({
                  type: r.params.get('type'),
                  hardwareType: r.params.get('hardware_type'),
                  filters: filtersOf(r),
                  includeScript: flag(r.params.get('include_script')),
                });
                return views.map(scriptJson);
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a new script',
              description: 'Create a new script.',
              permission: 'admin',
              params: [{ name: 'name', required: true, doc: 'The name of the script.' }, ...FORM_DOCS],
              run: async (r) => scriptJson(await this.catalogue.create(formInput(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'NodeScriptHandler',
          doc: 'Manage or view a custom script.',
          path: `${API}/scripts/{name}`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Return script metadata',
              description: 'Return metadata belonging to the script with the given name.',
              params: [{ name: 'include_script', doc: 'Include the base64 encoded script content if any value is given for include_script.' }],
              run: async (r) => scriptJson(await this.catalogue.get(name(r), flag(r.params.get('include_script')))),
            },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a script',
              description: 'Update a script with the given name.',
              permission: 'admin',
              params: [{ name: 'name', doc: 'A new name for the script.' }, ...FORM_DOCS],
              run: async (r) => scriptJson(await this.catalogue.update(name(r), formInput(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a script',
              description: 'Deletes a script with the given name.',
              permission: 'admin',
              run: async (r) => {
                await this.catalogue.delete(name(r));
                return ApiResponse.noContent();
              },
            },
            {
              name: 'download',
              op: 'download',
              method: 'GET',
              title: 'Download a script',
              description: 'Download a script with the given name.',
              params: [{ name: 'revision', type: 'Int', doc: 'What revision to download, latest by default. Can use rev as a shortcut.' }],
              run: async (r) => {
                const revision = integer(r, 'revision', false) ?? integer(r, 'rev', false);
                return new ApiResponse(200, await this.catalogue.download(name(r), revision), 'application/binary');
              },
            },
            {
              name: 'revert',
              op: 'revert',
              method: 'POST',
              title: 'Revert a script version',
              description: 'Revert a script with the given name to an earlier version.',
              permission: 'admin',
              params: [{ name: 'to', type: 'Int', doc: "What revision in the script's history to revert to. This can either be an ID or a negative number representing how far back to go." }],
              run: async (r) => scriptJson(await this.catalogue.revert(name(r), integer(r, 'to', true)!)),
            },
            {
              name: 'add_tag',
              op: 'add_tag',
              method: 'POST',
              title: 'Add a tag',
              description: 'Add a single tag to a script with the given name.',
              permission: 'admin',
              params: [{ name: 'tag', doc: 'The tag being added.' }],
              run: async (r) => scriptJson(await this.catalogue.addTag(name(r), mandatory(r, 'tag'))),
            },
            {
              name: 'remove_tag',
              op: 'remove_tag',
              method: 'POST',
              title: 'Remove a tag',
              description: 'Remove a tag from a script with the given name.',
              permission: 'admin',
              params: [{ name: 'tag', doc: 'The tag being removed.' }],
              run: async (r) => scriptJson(await this.catalogue.removeTag(name(r), mandatory(r, 'tag'))),
            },
          ],
        },
      },
    );
  }
}

function mandatory(r: ApiRequest, key: string): string {
  const v = r.params.get(key);
  if (v === undefined) throw new BadRequestError(`No provided ${key}!`);
  return v;
}
