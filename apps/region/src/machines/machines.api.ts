import { Injectable, OnModuleInit } from '@nestjs/common';
import { LifecycleEvent } from '@kiln/lifecycle';
import { ApiRegistry } from '../api/api.registry';
import { CloneService } from '../clone/clone.service';
import { ActionDef, ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { BadRequestError, ForbiddenError, NotFoundError } from '../api/http/http.errors';
import { parseBool, RequestParams } from '../api/http/params';
import type { PowerSettingsInput } from './machine.fields';
import { writeMachineJson } from './machine.json-writer';
import { MachineAllocationService, type DeployInput, type ReleaseInput } from './machine-allocation.service';
import { MachineConfigService } from './machine-config.service';
import { MachineEditingService, type UpdateMachineInput } from './machine-editing.service';
import { MachineEnlistmentService, type CreateMachineInput } from './machine-enlistment.service';
import { MachineListingService } from './machine-listing.service';
import { MachinePowerService } from './machine-power.service';
import { machineJson, anonymousMachineJson } from './machine.serializer';
import { MachineRecord } from './machines.repository';
import { NodeStatus } from '@kiln/lifecycle';
import type { RunRequest } from '../scripts/script-runs.service';

const FILTER_DOCS: ParamDoc[] = [
  ['hostname', 'Only nodes relating to the node with the matching hostname.'],
  ['mac_address', 'Only nodes relating to the node owning the specified MAC address.'],
  ['id', 'Only nodes relating to the nodes with matching system ids.'],
  ['domain', 'Only nodes relating to the nodes in the domain.'],
  ['zone', 'Only nodes relating to the nodes in the zone.'],
  ['pool', 'Only nodes belonging to the pool.'],
  ['agent_name', 'Only nodes relating to the nodes with matching agent names.'],
  ['status', 'Only nodes with the given status label (e.g. ready, deployed).'],
  ['simple_status', 'Only nodes with the given simplified status (e.g. failed, rescue_mode).'],
  ['arch', 'Only nodes of the given architecture.'],
  ['tags', 'Only nodes with all the given tags.'],
  ['owner', 'Only nodes owned by the given user.'],
  ['power_state', 'Only nodes in the given power state.'],
].map(([name, doc]) => ({ name, doc }));

const ALLOCATE_DOCS: ParamDoc[] = [
  ['name', 'Hostname or FQDN of the desired machine.'],
  ['system_id', 'system_id of the desired machine.'],
  ['arch', 'Architecture of the returned machine (e.g. "amd64/generic"); repeat for alternatives.'],
  ['cpu_count', 'Minimum number of CPUs a returned machine must have.'],
  ['mem', 'The minimum amount of memory (expressed in MB) the desired machine must have.'],
  ['tags', 'Tags the desired machine must match.'],
  ['not_tags', 'Tags the desired machine must NOT match.'],
  ['zone', 'Physical zone name the desired machine must be located in.'],
  ['not_in_zone', 'List of physical zones from which the desired machine must NOT be acquired.'],
  ['pool', 'Resource pool name the desired machine must belong to.'],
  ['not_in_pool', 'List of resource pool from which the desired machine must NOT be acquired.'],
  ['storage', 'A list of storage constraint identifiers, in the form: label:size(tag[,tag[,...])][,label:...].'],
  ['agent_name', 'An optional agent name to attach to the acquired machine.'],
  ['comment', 'Comment for the event log.'],
  ['dry_run', 'If true, the machine will not actually be acquired.'],
  ['verbose', 'If true, include verbose output.'],
].map(([name, doc]) => ({ name, doc }));

/**
 * machines/ (MachinesHandler, AnonMachinesHandler) and machines/{system_id}/ (MachineHandler):
 * each action turns the request's parameters into a service's typed input and its answer into
 * MAAS's JSON. Who may do what is the services' business (MachineAccess), besides the generic
 * admin-only flag on actions.
 */
@Injectable()
export class MachinesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly listing: MachineListingService,
    private readonly enlistment: MachineEnlistmentService,
    private readonly editing: MachineEditingService,
    private readonly allocation: MachineAllocationService,
    private readonly power: MachinePowerService,
    private readonly config: MachineConfigService,
    private readonly clone: CloneService,
  ) {}

  onModuleInit() {
    const path = '/MAAS/api/2.0/machines/';
    const item = '/MAAS/api/2.0/machines/{system_id}/';
    const sid = (r: ApiRequest) => r.pathParams.system_id;
    const json = (rec: MachineRecord) => machineJson(rec);

    const lifecycleOp = (
      op: string,
      title: string,
      event: (r: ApiRequest) => LifecycleEvent,
      params: ParamDoc[] = [{ name: 'comment', doc: 'Optional comment for the event log.' }],
    ): ActionDef => ({
      name: op,
      op,
      method: 'POST',
      title,
      params,
      run: async (r) => json(await this.allocation.act(sid(r), event(r), r.user!)),
    });

    this.registry.register(
      {
        auth: {
          name: 'MachinesHandler',
          doc: 'Manage the collection of all the machines in the MAAS.',
          path,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List Nodes visible to the user',
              description: 'List nodes visible to current user, optionally filtered by criteria.',
              params: FILTER_DOCS,
              run: async (r) => {
                return ApiResponse.chunks(await this.listing.listJson(r.params, r.user!));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a new machine',
              description: 'Adding a server to MAAS adds it in the New state (admins commission it at once unless commission=false).',
              params: [
                { name: 'architecture', required: true, doc: 'A string containing the architecture type of the machine.' },
                { name: 'mac_addresses', required: true, doc: 'One or more MAC addresses for the machine.' },
                { name: 'hostname', doc: 'A hostname. If not given, one will be generated.' },
                { name: 'description', doc: 'A optional description.' },
                { name: 'domain', doc: 'The domain of the machine.' },
                { name: 'zone', doc: 'Name of a valid physical zone in which to place this machine.' },
                { name: 'pool', doc: 'The resource pool to which the machine should belong.' },
                { name: 'power_type', doc: 'A power management type, if applicable (e.g. "ipmi", "manual").' },
                { name: 'power_parameters_{param}', doc: 'The parameter(s) for the power_type.' },
                { name: 'power_parameters_skip_check', type: 'Boolean', doc: 'Whether or not the new power parameters should be checked.' },
                { name: 'commission', type: 'Boolean', doc: 'Request the newly created machine to be commissioned.' },
                { name: 'deployed', type: 'Boolean', doc: 'Create the machine directly in the Deployed state.' },
              ],
              run: async (r) => json(await this.enlistment.create(createInput(r.params), r.user)),
            },
            {
              name: 'allocate',
              op: 'allocate',
              method: 'POST',
              title: 'Allocate a machine',
              description: 'Allocates an available machine for deployment. Constraints parameters can be used to allocate a machine that possesses certain characteristics.',
              params: ALLOCATE_DOCS,
              run: async (r) => {
                const { rec, storage, interfaces } = await this.allocation.allocate(r.params, r.user!);
                return machineJson(rec, {
                  constraints_by_type: { storage: storage ?? {}, interfaces: interfaces ?? {} },
                });
              },
            },
            {
              name: 'release',
              op: 'release',
              method: 'POST',
              title: 'Release machines',
              description: 'Release multiple machines; changes their state to Ready.',
              params: [
                { name: 'machines', required: true, doc: 'A list of system_ids of the machines which are to be released.' },
                { name: 'comment', doc: 'Optional comment for the event log.' },
              ],
              run: async (r) => this.allocation.releaseMany(r.params.getAll('machines'), r.user!),
            },
            {
              name: 'list_allocated',
              op: 'list_allocated',
              method: 'GET',
              title: 'List allocated',
              description: 'List machines that were allocated to the user.',
              params: [{ name: 'id', doc: 'Only these system ids.' }],
              run: async (r) => {
                return ApiResponse.rawJson(serializeList(await this.listing.allocatedTo(r.user!, r.params.getAll('id'))));
              },
            },
            {
              name: 'power_parameters',
              op: 'power_parameters',
              method: 'GET',
              title: 'Get power parameters',
              description: 'Get power parameters for multiple machines (admin only; contains secrets).',
              permission: 'admin',
              params: [{ name: 'id', doc: 'A system ID; repeat for several. Without it, every machine.' }],
              run: async (r) => {
                const ids = r.params.getAll('id');
                return this.editing.powerParameters(ids.length ? ids : null);
              },
            },
            {
              name: 'is_registered',
              op: 'is_registered',
              method: 'GET',
              title: 'MAC address registered',
              params: [{ name: 'mac_address', required: true, doc: 'The MAC address to be checked.' }],
              run: async (r) => this.isRegistered(r, false),
            },
            {
              name: 'accept',
              op: 'accept',
              method: 'POST',
              title: 'Accept declared machines',
              description: 'Accept declared machines into MAAS: New machines start commissioning.',
              permission: 'admin',
              params: [{ name: 'machines', required: true, doc: 'A list of system_ids of the machines whose enlistment is to be accepted.' }],
              run: async (r) => (await this.enlistment.accept(r.params.getAll('machines'), r.user!)).map((rec) => machineJson(rec)),
            },
            {
              name: 'accept_all',
              op: 'accept_all',
              method: 'POST',
              title: 'Accept all declared machines',
              description: 'Accept all declared machines into MAAS.',
              permission: 'admin',
              run: async (r) => {
                const ids = await this.listing.newMachineIds();
                return (await this.enlistment.accept(ids, r.user!)).map((rec) => machineJson(rec));
              },
            },
            {
              name: 'clone',
              op: 'clone',
              method: 'POST',
              title: 'Clone storage and/or interface configurations',
              description:
                'Clone storage and/or interface configurations from the source machine onto each destination. Each destination ' +
                'is cloned completely or not at all; destinations that cannot be cloned are listed in the error with their system_id.',
              permission: 'admin',
              params: [
                { name: 'source', required: true, doc: 'The system_id of the machine to clone from.' },
                { name: 'destinations', required: true, doc: 'system_ids of the machines to clone onto (Ready or Failed testing).' },
                { name: 'interfaces', doc: 'Whether to clone the interface configuration. Defaults to False.' },
                { name: 'storage', doc: 'Whether to clone the storage configuration. Defaults to False.' },
              ],
              run: async (r) => {
                const flag = (name: string): boolean => {
                  const raw = r.params.get(name);
                  if (raw === undefined || raw === '') return false;
                  const v = parseBool(raw);
                  if (v === undefined) throw new BadRequestError({ [name]: [`'${raw}' value must be either True or False.`] });
                  return v;
                };
                const result = await this.clone.clone(
                  { source: r.params.get('source'), destinations: r.params.getAll('destinations'), interfaces: flag('interfaces'), storage: flag('storage') },
                  r.user!,
                );
                if (!result.failures.length) return ApiResponse.noContent();
                // Refused only for the destinations' states: 409; any destination that does not fit the source: 400.
                const status = result.failures.every((f) => f.code === 'state') ? 409 : 400;
                return new ApiResponse(status, {
                  destinations: result.failures.map((f) => ({ system_id: f.systemId, code: f.code, message: f.message })),
                  cloned: result.cloned,
                });
              },
            },
            {
              name: 'set_zone',
              op: 'set_zone',
              method: 'POST',
              title: 'Assign nodes to a zone',
              permission: 'admin',
              params: [
                { name: 'zone', required: true, doc: 'Zone name. If omitted, the zone is "none" and the nodes will be taken out of their physical zones.' },
                { name: 'nodes', required: true, doc: 'system_ids of the nodes whose zones are to be set.' },
              ],
              run: async (r) => {
                await this.editing.setZone(r.params.get('zone'), r.params.getAll('nodes'), r.user!);
                return ApiResponse.noContent();
              },
            },
          ],
        },
        anon: {
          name: 'AnonMachinesHandler',
          doc: 'Anonymous access to Machines.',
          path,
          actions: [
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a new machine (enlistment)',
              description: 'Adding a server to MAAS puts it in the New state; enlisting machines commission themselves.',
              params: [
                { name: 'architecture', required: true, doc: 'A string containing the architecture type of the machine.' },
                { name: 'mac_addresses', required: true, doc: 'One or more MAC addresses for the machine.' },
                { name: 'hostname', doc: 'A hostname. If not given, one will be generated.' },
              ],
              permission: 'anonymous',
              run: async (r) => anonymousMachineJson(await this.enlistment.create(createInput(r.params), null)),
            },
            {
              name: 'is_registered',
              op: 'is_registered',
              method: 'GET',
              title: 'MAC address registered',
              params: [{ name: 'mac_address', required: true, doc: 'The MAC address to be checked.' }],
              permission: 'anonymous',
              run: async (r) => this.isRegistered(r, true),
            },
            {
              name: 'is_action_in_progress',
              op: 'is_action_in_progress',
              method: 'GET',
              title: 'MAC address of deploying or commissioning node',
              params: [{ name: 'mac_address', required: true, doc: 'The MAC address to be checked.' }],
              permission: 'anonymous',
              run: async (r) => {
                const rec = await this.byMac(r);
                return !!rec && ([NodeStatus.COMMISSIONING, NodeStatus.DEPLOYING] as number[]).includes(rec.row.status);
              },
            },
            {
              name: 'accept',
              op: 'accept',
              method: 'POST',
              title: 'Accept declared machines',
              params: [{ name: 'machines', doc: 'A list of system_ids of the machines whose enlistment is to be accepted.' }],
              permission: 'anonymous',
              run: () => {
                throw new ForbiddenError('Anonymous users cannot accept machines.');
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'MachineHandler',
          doc: 'Manage an individual machine.',
          path: item,
          ensureExists: async (pp) => {
            if (!(await this.listing.exists(pp.system_id ?? ''))) throw new NotFoundError('No Machine matches the given query.');
          },
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a node', run: async (r) => json(await this.listing.get(sid(r), r.user!)) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a machine',
              permission: 'admin',
              params: [
                { name: 'hostname', doc: 'The new hostname for this machine.' },
                { name: 'description', doc: 'The new description for this machine.' },
                { name: 'domain', doc: 'The domain for this machine.' },
                { name: 'architecture', doc: 'The new architecture for this machine.' },
                { name: 'min_hwe_kernel', doc: 'A string containing the minimum kernel version allowed to be ran on this machine.' },
                { name: 'power_type', doc: 'The new power type for this machine.' },
                { name: 'power_parameters_{param}', doc: 'The new value for the "param" power parameter.' },
                { name: 'power_parameters_skip_check', type: 'Boolean', doc: 'Whether or not the new power parameters should be checked.' },
                { name: 'pool', doc: 'The resource pool to which the machine should belong.' },
                { name: 'zone', doc: 'Name of a valid physical zone in which to place this machine.' },
                { name: 'swap_size', doc: 'Size of the swap file, in bytes (K, M, G, T suffixes accepted).' },
                { name: 'cpu_count', type: 'Int', doc: 'The amount of CPU cores the machine has.' },
                { name: 'memory', doc: 'How much memory the machine has (suffixes accepted; bare numbers are MiB).' },
              ],
              run: async (r) => json(await this.editing.update(sid(r), updateInput(r.params), r.user!)),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a machine',
              permission: 'admin',
              params: [{ name: 'force', type: 'Boolean', doc: 'Delete even if the machine is deployed or busy.' }],
              run: async (r) => {
                await this.editing.delete(sid(r), r.user!, parseBool(r.params.get('force')) === true);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'commission',
              op: 'commission',
              method: 'POST',
              title: 'Commission a machine',
              params: [
                { name: 'enable_ssh', type: 'Int', doc: 'Whether to enable SSH for the commissioning environment using the user\'s SSH key(s).' },
                { name: 'skip_bmc_config', type: 'Int', doc: 'Whether to skip re-configuration of the BMC for IPMI based machines.' },
                { name: 'skip_networking', type: 'Int', doc: 'Whether to skip re-configuring the networking on the machine after commissioning.' },
                { name: 'skip_storage', type: 'Int', doc: 'Whether to skip re-configuring the storage on the machine after commissioning.' },
                { name: 'commissioning_scripts', doc: 'A comma separated list of commissioning script names and tags to be run.' },
                { name: 'testing_scripts', doc: 'A comma separated list of testing script names and tags to be run after commissioning.' },
                { name: 'parameters', doc: 'Script parameters as <param>=<value> or <script>_<param>=<value> fields (e.g. storage=sda).' },
              ],
              run: async (r) => json(await this.allocation.runScripts(sid(r), { type: 'commission' }, runInput(r.params), r.user!)),
            },
            {
              name: 'test',
              op: 'test',
              method: 'POST',
              title: 'Begin testing process for a node',
              params: [
                { name: 'enable_ssh', type: 'Int', doc: "Whether to enable SSH for the testing environment using the user's SSH key(s)." },
                { name: 'testing_scripts', doc: 'A comma-separated list of testing script names and tags to be run.' },
                { name: 'parameters', doc: 'Script parameters as <param>=<value> or <script>_<param>=<value> fields (e.g. storage=sda).' },
              ],
              run: async (r) => json(await this.allocation.runScripts(sid(r), { type: 'test' }, runInput(r.params), r.user!)),
            },
            lifecycleOp('abort', 'Abort a node operation', () => ({ type: 'abort' })),
            {
              name: 'deploy',
              op: 'deploy',
              method: 'POST',
              title: 'Deploy a machine',
              description: 'Deploys an operating system to a machine that was previously allocated (or allocates it first).',
              params: [
                { name: 'distro_series', doc: 'If present, this parameter specifies the OS release the machine will use (bookworm, debian/12, jammy, ubuntu/22.04); the region must hold its image. Defaults to debian/bookworm.' },
                { name: 'hwe_kernel', doc: 'If present, this parameter specified the kernel to be used on the machine.' },
                { name: 'user_data', doc: 'If present, this blob of base64-encoded user-data to be made available to the machines through the metadata service.' },
                { name: 'agent_name', doc: 'An optional agent name to attach to the acquired machine.' },
                { name: 'comment', doc: 'Optional comment for the event log.' },
                { name: 'ephemeral_deploy', type: 'Boolean', doc: 'Deploy the machine in memory only.' },
              ],
              run: async (r) => json(await this.allocation.deploy(sid(r), deployInput(r.params), r.user!)),
            },
            {
              name: 'release',
              op: 'release',
              method: 'POST',
              title: 'Release a machine',
              description:
                'Releases a machine. With disk erasing (erase, or the setting enable_disk_erasing_on_release) the machine boots the ephemeral environment, runs wipe-disks and becomes Ready when it is done; Failed disk erasing, with the reason, when the wipe fails. With release scripts (scripts) it is Releasing while the ephemeral environment runs them (and wipe-disks, when erasing), Failed releasing, with the reason, when one fails.',
              params: [
                { name: 'comment', doc: 'Optional comment for the event log.' },
                { name: 'erase', type: 'Boolean', doc: 'Erase the disk when releasing.' },
                { name: 'secure_erase', type: 'Boolean', doc: "Use the drive's secure erase feature if available (falls back to quick_erase, then to zeroing the whole disk). Defaults to the setting disk_erase_with_secure_erase." },
                { name: 'quick_erase', type: 'Boolean', doc: 'Wipe 2MiB at the start and at the end of the drive. Defaults to the setting disk_erase_with_quick_erase.' },
                { name: 'force', type: 'Boolean', doc: 'Will force the release of a machine.' },
                {
                  name: 'scripts',
                  doc: 'A comma separated list of release script names and tags to be run in the ephemeral environment before the machine is Ready (none: none). Their parameters as <script>_<param>=value or <param>=value.',
                },
              ],
              run: async (r) => json(await this.allocation.release(sid(r), releaseInput(r.params), r.user!)),
            },
            lifecycleOp('mark_broken', 'Mark a node as \'broken\'', (r) => ({
              type: 'markBroken',
              comment: r.params.get('comment') ?? r.params.get('error_description'),
            })),
            lifecycleOp('mark_fixed', 'Mark a machine as \'Fixed\'', () => ({ type: 'markFixed' })),
            lifecycleOp('rescue_mode', 'Enter rescue mode', () => ({ type: 'rescueMode' })),
            lifecycleOp('exit_rescue_mode', 'Exit rescue mode', () => ({ type: 'exitRescueMode' })),
            lifecycleOp('lock', 'Lock a machine', () => ({ type: 'lock' })),
            lifecycleOp('unlock', 'Unlock a machine', () => ({ type: 'unlock' })),
            lifecycleOp('override_failed_testing', 'Ignore failed tests', () => ({ type: 'overrideFailedTesting' })),
            lifecycleOp('power_on', 'Turn on a node', () => ({ type: 'powerOn' }), [
              { name: 'user_data', doc: 'Base64-encoded blob of data to be made available to the nodes through the metadata service.' },
              { name: 'comment', doc: 'Optional comment for the event log.' },
            ]),
            {
              name: 'power_off',
              op: 'power_off',
              method: 'POST',
              title: 'Power off a node',
              params: [
                { name: 'stop_mode', doc: "Power-off mode. If 'soft', perform a soft power down if the node's power type supports it, otherwise perform a hard power off." },
                { name: 'comment', doc: 'Optional comment for the event log.' },
              ],
              run: async (r) => {
                const mode = r.params.get('stop_mode') ?? 'hard';
                if (mode !== 'hard' && mode !== 'soft') throw new BadRequestError({ stop_mode: ['Must be hard or soft.'] });
                return json(await this.allocation.act(sid(r), { type: 'powerOff', stopMode: mode }, r.user!));
              },
            },
            {
              name: 'query_power_state',
              op: 'query_power_state',
              method: 'GET',
              title: 'Get the power state of a node',
              description: "Gets the power state of a given node: a live query of the node's BMC through a rack controller.",
              run: async (r) => ({ state: await this.power.queryPowerState(sid(r), r.user!) }),
            },
            {
              name: 'power_parameters',
              op: 'power_parameters',
              method: 'GET',
              title: 'Get power parameters',
              description: 'Gets power parameters for a given system_id, if any (admin only; contains secrets).',
              permission: 'admin',
              run: async (r) => {
                // Administrators only: they see every machine, so only its existence is in question.
                if (!(await this.listing.exists(sid(r)))) throw new NotFoundError('No Machine matches the given query.');
                return (await this.editing.powerParameters([sid(r)]))[sid(r)] ?? {};
              },
            },
            {
              name: 'set_workload_annotations',
              op: 'set_workload_annotations',
              method: 'POST',
              title: 'Set key=value data',
              description: 'Set key=value data for the current owner. Pass any key=value form data; an empty value deletes the key.',
              params: [{ name: 'key', doc: 'key can be any string value.' }],
              run: async (r) => json(await this.editing.setOwnerData(sid(r), annotations(r.params), r.user!)),
            },
            {
              name: 'set_owner_data',
              op: 'set_owner_data',
              method: 'POST',
              title: 'Deprecated, use set-workload-annotations.',
              params: [{ name: 'key', doc: 'key can be any string value.' }],
              run: async (r) => json(await this.editing.setOwnerData(sid(r), annotations(r.params), r.user!)),
            },
            {
              name: 'set_storage_layout',
              op: 'set_storage_layout',
              method: 'POST',
              title: 'Change storage layout',
              description:
                "Changes the storage layout on machine with the given system_id. This operation can only be performed on a machine with a status of 'Ready'. It replaces the current storage layout and any extra configuration.",
              permission: 'admin',
              params: [
                { name: 'storage_layout', required: true, doc: 'Storage layout for the machine: flat, lvm, bcache, vmfs6, vmfs7, custom or blank.' },
                { name: 'boot_size', doc: 'Size of the boot partition (e.g. 512M, 1G).' },
                { name: 'root_size', doc: 'Size of the root partition (e.g. 24G).' },
                { name: 'root_device', doc: 'Physical block device to place the root partition (its id; Kiln also takes its name).' },
                { name: 'vg_name', doc: 'LVM only. Name of created volume group.' },
                { name: 'lv_name', doc: 'LVM only. Name of created logical volume.' },
                { name: 'lv_size', doc: 'LVM only. Size of created logical volume.' },
                { name: 'cache_device', doc: 'Bcache only. Physical block device to use as the cache device.' },
                { name: 'cache_mode', doc: 'Bcache only. Cache mode for bcache device: writeback, writethrough, writearound.' },
                { name: 'cache_size', doc: 'Bcache only. Size of the cache partition to create on the cache device (e.g. 48G).' },
                { name: 'cache_no_part', type: 'Boolean', doc: "Bcache only. Don't create a partition on the cache device. Use the entire disk as the cache device." },
              ],
              run: async (r) => json(await this.config.setStorageLayout(sid(r), (name) => r.params.get(name), r.user!)),
            },
            {
              name: 'mount_special',
              op: 'mount_special',
              method: 'POST',
              title: 'Mount a special-purpose filesystem',
              description: 'Mount a special-purpose filesystem, like tmpfs on a machine with the given system_id.',
              params: [
                { name: 'fstype', required: true, doc: 'The filesystem type. This must be a filesystem that does not require a block special device.' },
                { name: 'mount_point', required: true, doc: 'Path on the filesystem to mount.' },
                { name: 'mount_options', doc: 'Options to pass to mount(8) (mount_option is accepted too).' },
              ],
              run: async (r) =>
                json(
                  await this.config.mountSpecial(
                    sid(r),
                    {
                      fstype: r.params.get('fstype'),
                      mountPoint: r.params.get('mount_point'),
                      // MAAS documents mount_option and reads mount_options; both are taken.
                      mountOptions: r.params.get('mount_options') ?? r.params.get('mount_option'),
                    },
                    r.user!,
                  ),
                ),
            },
            {
              name: 'unmount_special',
              op: 'unmount_special',
              method: 'POST',
              title: 'Unmount a special-purpose filesystem',
              description: 'Unmount a special-purpose filesystem, like tmpfs, on a machine with the given system_id.',
              params: [{ name: 'mount_point', required: true, doc: 'Path on the filesystem to unmount.' }],
              run: async (r) => json(await this.config.unmountSpecial(sid(r), r.params.get('mount_point'), r.user!)),
            },
            {
              name: 'clear_default_gateways',
              op: 'clear_default_gateways',
              method: 'POST',
              title: 'Clear set default gateways',
              description: 'Clear any set default gateways on a machine with the given system_id.',
              permission: 'admin',
              run: async (r) => json(await this.config.clearDefaultGateways(sid(r), r.user!)),
            },
            {
              name: 'get_curtin_config',
              op: 'get_curtin_config',
              method: 'GET',
              title: 'Get curtin configuration',
              description: 'Return the rendered curtin configuration for the machine.',
              run: async (r) => ApiResponse.text(200, await this.config.curtinConfig(sid(r), r.user!)),
            },
            {
              name: 'restore_networking_configuration',
              op: 'restore_networking_configuration',
              method: 'POST',
              title: 'Restore networking options',
              description: 'Restores networking options to their initial state on a machine with the given system_id.',
              permission: 'admin',
              run: async (r) => json(await this.config.restoreNetworking(sid(r), r.user!)),
            },
            {
              name: 'restore_storage_configuration',
              op: 'restore_storage_configuration',
              method: 'POST',
              title: 'Restore storage configuration',
              description: 'Restores storage configuration options to their initial state on a machine with the given system_id.',
              permission: 'admin',
              run: async (r) => json(await this.config.restoreStorage(sid(r), r.user!)),
            },
            {
              name: 'restore_default_configuration',
              op: 'restore_default_configuration',
              method: 'POST',
              title: 'Restore default configuration',
              description: 'Restores the default configuration options on a machine with the given system_id.',
              permission: 'admin',
              run: async (r) => json(await this.config.restoreDefault(sid(r), r.user!)),
            },
            {
              name: 'details',
              op: 'details',
              method: 'GET',
              title: 'Get system details',
              description: 'Returns system details -- for example, LLDP and lshw XML dumps -- as a BSON document {detail_type: bytes}.',
              run: async (r) => new ApiResponse(200, await this.config.details(sid(r), r.user!), 'application/bson'),
            },
            {
              name: 'get_token',
              op: 'get_token',
              method: 'GET',
              title: 'Get a machine token',
              permission: 'admin',
              run: async (r) => this.config.token(sid(r), r.user!),
            },
          ],
        },
      },
    );
  }

  /** The machine of a MAC; the enlisting runner sends all its MACs comma-joined in one value. */
  private async byMac(r: ApiRequest): Promise<MachineRecord | null> {
    const macs = (r.params.get('mac_address') ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    for (const mac of macs.length ? macs : [r.params.get('mac_address')]) {
      const rec = await this.listing.findByMac(mac);
      if (rec) return rec;
    }
    return null;
  }

  private async isRegistered(r: ApiRequest, anonymous: boolean): Promise<boolean> {
    const rec = await this.byMac(r);
    if (!rec) return false;
    // Anonymous callers are enlisting machines: New, Commissioning and Retired ones may re-enlist.
    if (anonymous) return !([NodeStatus.NEW, NodeStatus.COMMISSIONING, NodeStatus.RETIRED] as number[]).includes(rec.row.status);
    return true;
  }
}

/** The full listing, serialised in one pass. */
export function serializeList(recs: MachineRecord[]): string {
  const parts = new Array<string>(recs.length);
  for (let i = 0; i < recs.length; i++) parts[i] = writeMachineJson(recs[i]);
  return `[${parts.join(',')}]`;
}

// ---- parameters -> typed inputs ------------------------------------------------------------

/** `power_type`, `power_parameters` (JSON) and `power_parameters_<name>` fields, as sent. */
function powerInput(p: RequestParams): PowerSettingsInput {
  const fields: [string, string][] = [];
  for (const name of p.names()) {
    if (name.startsWith('power_parameters_') && name !== 'power_parameters_skip_check') {
      fields.push([name.slice('power_parameters_'.length), p.get(name) ?? '']);
    }
  }
  return { type: p.get('power_type'), json: p.get('power_parameters'), fields, skipCheck: p.get('power_parameters_skip_check') };
}

function createInput(p: RequestParams): CreateMachineInput {
  return {
    architecture: p.get('architecture'),
    subarchitecture: p.get('subarchitecture'),
    macAddresses: p.getAll('mac_addresses'),
    hostname: p.get('hostname'),
    description: p.get('description'),
    domain: p.get('domain'),
    zone: p.get('zone'),
    pool: p.get('pool'),
    minHweKernel: p.get('min_hwe_kernel'),
    power: powerInput(p),
    commission: p.get('commission'),
    deployed: p.get('deployed'),
  };
}

const RELEASE_FIELDS = new Set(['op', 'comment', 'erase', 'secure_erase', 'quick_erase', 'force', 'scripts']);

function releaseInput(p: RequestParams): ReleaseInput {
  return {
    erase: p.get('erase'),
    secureErase: p.get('secure_erase'),
    quickErase: p.get('quick_erase'),
    scripts: p.has('scripts') ? p.getAll('scripts').join(',') : undefined,
    parameters: p.names().filter((n) => !RELEASE_FIELDS.has(n)).map((n) => [n, p.get(n) ?? '']),
  };
}

const RUN_FIELDS = new Set(['op', 'enable_ssh', 'skip_bmc_config', 'skip_networking', 'skip_storage', 'commissioning_scripts', 'testing_scripts', 'comment']);

function runInput(p: RequestParams): RunRequest {
  return {
    enableSsh: p.get('enable_ssh'),
    skipBmcConfig: p.get('skip_bmc_config'),
    skipNetworking: p.get('skip_networking'),
    skipStorage: p.get('skip_storage'),
    // Repeated values (the CLI's `testing_scripts=a testing_scripts=b`) join the comma list.
    commissioningScripts: p.has('commissioning_scripts') ? p.getAll('commissioning_scripts').join(',') : undefined,
    testingScripts: p.has('testing_scripts') ? p.getAll('testing_scripts').join(',') : undefined,
    parameters: p.names().filter((n) => !RUN_FIELDS.has(n)).map((n) => [n, p.get(n) ?? '']),
  };
}

function updateInput(p: RequestParams): UpdateMachineInput {
  return {
    hostname: p.get('hostname'),
    description: p.get('description'),
    architecture: p.get('architecture'),
    subarchitecture: p.get('subarchitecture'),
    minHweKernel: p.get('min_hwe_kernel'),
    cpuCount: p.get('cpu_count'),
    cpuSpeed: p.get('cpu_speed'),
    memory: p.get('memory'),
    swapSize: p.get('swap_size'),
    disableIpv4: p.get('disable_ipv4'),
    domain: p.get('domain'),
    zone: p.get('zone'),
    pool: p.get('pool'),
    power: powerInput(p),
    changed: p.names().filter((n) => n !== 'op'),
  };
}

function deployInput(p: RequestParams): DeployInput {
  return {
    installKvm: p.get('install_kvm'),
    installRackd: p.get('install_rackd'),
    registerVmhost: p.get('register_vmhost'),
    distroSeries: p.get('distro_series'),
    hweKernel: p.get('hwe_kernel'),
    userData: p.get('user_data'),
    agentName: p.get('agent_name'),
    ephemeralDeploy: p.get('ephemeral_deploy'),
  };
}

/** Every parameter but `op`, as key=value workload annotations (first values). */
function annotations(p: RequestParams): [string, string][] {
  return p.names().filter((k) => k !== 'op').map((k) => [k, p.get(k) ?? '']);
}
