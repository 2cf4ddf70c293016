import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ActionDef, HandlerDef, ParamDoc } from '../api/api.types';
import { NO_VM_HOSTS, PodsService } from './pods.service';

const API = '/MAAS/api/2.0';
const ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: "The VM host's ID." };
const TAG: ParamDoc = { name: 'tag', required: true, doc: 'The tag.' };
const CREATE_PARAMS: ParamDoc[] = [
  { name: 'type', required: true, doc: 'The type of VM host to create (virsh or lxd in MAAS). Kiln refuses every type.' },
  { name: 'power_address', required: true, doc: 'Address that gives MAAS access to the VM host power control.' },
  { name: 'power_user', doc: 'Username to use for power control of the VM host.' },
  { name: 'power_pass', doc: 'Password to use for power control of the VM host.' },
  { name: 'name', doc: "The new VM host's name." },
  { name: 'zone', doc: "The new VM host's zone." },
  { name: 'pool', doc: 'The name of the resource pool the new VM host will belong to.' },
  { name: 'tags', doc: 'A tag or list of tags (comma delimited) to assign to the new VM host.' },
];
const UPDATE_PARAMS: ParamDoc[] = ['name', 'pool', 'cpu_over_commit_ratio', 'memory_over_commit_ratio', 'default_storage_pool', 'power_address', 'power_pass', 'zone', 'tags'].map(
  (name) => ({ name, doc: `The VM host's ${name.replace(/_/g, ' ')}.` }),
);

/**
 * pods/ and vm-hosts/ (MAAS's PodsHandler/VmHostsHandler, PodHandler/VmHostHandler). Kiln manages
 * no VM hosts: the collections list none, create is a 400 with the reason, and every id is a 404.
 */
@Injectable()
export class PodsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly pods: PodsService,
  ) {}

  onModuleInit() {
    const collection = (name: string, path: string): HandlerDef => ({
      name,
      doc: `Manage the collection of all the VM hosts in MAAS. ${NO_VM_HOSTS}`,
      path: `${API}/${path}/`,
      actions: [
        { name: 'read', op: null, method: 'GET', title: 'List VM hosts', description: 'Kiln manages no VM hosts: always an empty list.', run: () => this.pods.list() },
        {
          name: 'create',
          op: null,
          method: 'POST',
          title: 'Create a VM host',
          description: `Refused with a 400: ${NO_VM_HOSTS}`,
          permission: 'admin',
          params: CREATE_PARAMS,
          run: () => this.pods.create(),
        },
      ],
    });
    const gone = (): never => this.pods.get();
    const one = (name: string, path: string): HandlerDef => {
      const action = (a: Omit<ActionDef, 'run'>): ActionDef => ({ ...a, run: gone });
      return {
        name,
        doc: `Manage an individual VM host. Kiln has none: every id is a 404. ${NO_VM_HOSTS}`,
        path: `${API}/${path}/{id}/`,
        ensureExists: async () => gone(),
        actions: [
          action({ name: 'read', op: null, method: 'GET', title: 'Read a VM host', params: [ID] }),
          action({ name: 'update', op: null, method: 'PUT', title: 'Update a specific VM host', permission: 'admin', params: [ID, ...UPDATE_PARAMS] }),
          action({ name: 'delete', op: null, method: 'DELETE', title: 'Deletes a VM host', permission: 'admin', params: [ID] }),
          action({ name: 'refresh', op: 'refresh', method: 'POST', title: 'Refresh a VM host', permission: 'admin', params: [ID] }),
          action({ name: 'parameters', op: 'parameters', method: 'GET', title: 'Obtain VM host parameters', permission: 'admin', params: [ID] }),
          action({ name: 'compose', op: 'compose', method: 'POST', title: 'Compose a virtual machine on the host', permission: 'admin', params: [ID] }),
          action({ name: 'add_tag', op: 'add_tag', method: 'POST', title: 'Add a tag to a VM host', permission: 'admin', params: [ID, TAG] }),
          action({ name: 'remove_tag', op: 'remove_tag', method: 'POST', title: 'Remove a tag from a VM host', permission: 'admin', params: [ID, TAG] }),
        ],
      };
    };
    this.registry.register(
      { auth: collection('VmHostsHandler', 'vm-hosts') },
      { auth: one('VmHostHandler', 'vm-hosts') },
      { auth: collection('PodsHandler', 'pods') },
      { auth: one('PodHandler', 'pods') },
    );
  }
}
