import { Injectable, OnModuleInit } from '@nestjs/common';
import { redactParameters } from '@kiln/scripts';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { formatRfc2822 } from '../api/http/maas-time';
import { parseBool } from '../api/http/params';
import { RESULT_TYPE_NAMES, scriptStatusName } from './script.names';
import { ResultSelection, ResultView, ScriptResultsService, SetView } from './script-results.service';

const API = '/MAAS/api/2.0';

const time = (d: Date | null) => (d ? formatRfc2822(d) : null);
const b64 = (b: Buffer | null | undefined) => (b ?? Buffer.alloc(0)).toString('base64');

/** One result as MAAS's NodeScriptResultHandler shows it (reference §2.11); passwords REDACTED. */
function resultJson(r: ResultView, includeOutput: boolean) {
  return {
    id: r.id,
    created: formatRfc2822(r.created),
    updated: formatRfc2822(r.updated),
    name: r.name,
    status: r.status,
    status_name: scriptStatusName(r.status),
    exit_status: r.exit_status,
    started: time(r.started),
    ended: time(r.ended),
    runtime: r.runtime,
    starttime: r.started ? r.started.getTime() / 1000 : '',
    endtime: r.ended ? r.ended.getTime() / 1000 : '',
    estimated_runtime: r.estimatedRuntime,
    parameters: redactParameters(r.parameters ?? {}),
    script_id: r.script_id,
    script_revision_id: r.script_version_id,
    suppressed: r.suppressed,
    ...(includeOutput ? { output: b64(r.output), stdout: b64(r.stdout), stderr: b64(r.stderr), result: b64(r.result) } : {}),
  };
}

/** A run (script set) with its results, as MAAS shows it. */
function setJson(v: SetView, includeOutput: boolean) {
  return {
    id: v.set.id,
    system_id: v.machine.system_id,
    type: v.set.result_type,
    type_name: RESULT_TYPE_NAMES[v.set.result_type] ?? '',
    last_ping: time(v.set.last_ping),
    status: v.set.status,
    status_name: scriptStatusName(v.set.status),
    started: time(v.set.started),
    ended: time(v.set.ended),
    runtime: v.runtime,
    results: v.results.map((r) => resultJson(r, includeOutput)),
    resource_uri: `${API}/nodes/${v.machine.system_id}/results/${v.set.id}/`,
  };
}

/** Any non-empty value turns include_output on (MAAS reads it with Python's bool()), except a false word. */
function flag(v: string | undefined): boolean {
  return v !== undefined && v !== '' && parseBool(v) !== false;
}

function selection(r: ApiRequest): ResultSelection {
  const filters = r.params.get('filters');
  const sel: ResultSelection = { includeOutput: flag(r.params.get('include_output')) };
  if (filters !== undefined) sel.filters = filters.split(',');
  const hardwareType = r.params.get('hardware_type');
  if (hardwareType !== undefined) sel.hardwareType = hardwareType;
  return sel;
}

const SELECTION_DOCS: ParamDoc[] = [
  { name: 'hardware_type', doc: 'Only return scripts for the given hardware type. Can be ``node``, ``cpu``, ``memory``, ``storage``, ``network`` or ``gpu``. Defaults to all.' },
  { name: 'include_output', doc: 'Include the base64 encoded output from the script if any value for include_output is given.' },
  { name: 'filters', doc: 'A comma seperated list to show only results that ran with a script name, tag, or id.' },
];

/** nodes/{system_id}/results/ (NodeScriptResultsHandler) and nodes/{system_id}/results/{id}/ (NodeScriptResultHandler). */
@Injectable()
export class ScriptResultsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly results: ScriptResultsService,
  ) {}

  onModuleInit() {
    const sid = (r: ApiRequest) => r.pathParams.system_id;
    const id = (r: ApiRequest) => r.pathParams.id;
    this.registry.register(
      {
        auth: {
          name: 'NodeScriptResultsHandler',
          doc: 'Manage node script results.',
          path: `${API}/nodes/{system_id}/results/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Return script results',
              description: 'Return a list of script results grouped by run for the given system_id.',
              params: [
                { name: 'type', doc: 'Only return scripts with the given type. This can be ``commissioning``, ``testing``, ``installation``, ``release`` or ``deployment``. Defaults to showing all.' },
                ...SELECTION_DOCS,
              ],
              run: async (r) => {
                const sel = selection(r);
                const sets = await this.results.list(sid(r), r.user!, r.params.get('type'), sel);
                return sets.map((s) => setJson(s, sel.includeOutput));
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'NodeScriptResultHandler',
          doc: 'Manage node script results.',
          path: `${API}/nodes/{system_id}/results/{id}/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Get specific script result',
              description: 'View a set of test results for a given system_id and script id. "id" can either by the script set id, ``current-commissioning``, ``current-testing``, or ``current-installation``.',
              params: SELECTION_DOCS,
              run: async (r) => {
                const sel = selection(r);
                return setJson(await this.results.get(sid(r), id(r), r.user!, sel), sel.includeOutput);
              },
            },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update specific script result',
              description: 'Update a set of test results for a given system_id and script id.',
              permission: 'admin',
              params: [...SELECTION_DOCS, { name: 'suppressed', type: 'Boolean', doc: "Set whether or not this script result should be suppressed using 'true' or 'false'." }],
              run: async (r) => {
                const sel = selection(r);
                const raw = r.params.get('suppressed');
                const suppressed = raw === undefined ? undefined : parseBool(raw);
                if (raw !== undefined && suppressed === undefined) throw new BadRequestError(`Invalid suppressed: Value should be 'true' or 'false'`);
                return setJson(await this.results.update(sid(r), id(r), r.user!, sel, suppressed), sel.includeOutput);
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete script results',
              description: 'Delete script results from the given system_id with the given id.',
              permission: 'admin',
              run: async (r) => {
                await this.results.delete(sid(r), id(r), r.user!);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'download',
              op: 'download',
              method: 'GET',
              title: 'Download script results',
              description: 'Download a compressed tar containing all results from the given system_id with the given id.',
              params: [
                { name: 'hardware_type', doc: 'Only return scripts for the given hardware type. Can be ``node``, ``cpu``, ``memory``, ``storage``, ``network`` or ``gpu``. Defaults to all.' },
                { name: 'filters', doc: 'A comma seperated list to show only results that ran with a script name or tag.' },
                { name: 'output', doc: 'Can be either ``combined``, ``stdout``, ``stderr``, or ``all``. By default only the combined output is returned.' },
                { name: 'filetype', doc: 'Filetype to output, can be ``txt`` or ``tar.xz``.' },
              ],
              run: async (r) => {
                const sel = selection(r);
                const req = { output: r.params.get('output') ?? 'combined', filetype: r.params.get('filetype') ?? 'txt', ...sel };
                const file = await this.results.download(sid(r), id(r), r.user!, req);
                return new ApiResponse(200, file.data, file.contentType);
              },
            },
          ],
        },
      },
    );
  }
}
