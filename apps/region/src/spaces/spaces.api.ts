import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { NetworkingRepository, SubnetRow, VlanRow } from '../networking/networking.repository';
import { subnetJson, vlanJson } from '../networking/networking.serializer';
import { SpaceRow } from './spaces.repository';
import { SpacesService, UNDEFINED_SPACE_ID, UNDEFINED_SPACE_NAME } from './spaces.service';

const API = '/MAAS/api/2.0';

const SPACE_PARAMS: ParamDoc[] = [
  { name: 'name', doc: 'Name of the space.' },
  { name: 'description', doc: 'Description of the space.' },
];

const input = (r: ApiRequest) => ({ name: r.params.get('name'), description: r.params.get('description') });

/** spaces/ and spaces/{id}/: MAAS's DISPLAYED_SPACE_FIELDS, and the undefined space (id -1) holding VLANs in no space. */
@Injectable()
export class SpacesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: SpacesService,
    private readonly net: NetworkingRepository,
  ) {}

  private async model(): Promise<{ vlans: Map<number, VlanRow>; subnets: SubnetRow[] }> {
    return { vlans: await this.net.vlanMap(), subnets: await this.net.subnets() };
  }

  private json(space: SpaceRow | null, m: { vlans: Map<number, VlanRow>; subnets: SubnetRow[] }) {
    const spaceId = space ? space.id : null;
    const vlans = [...m.vlans.values()].filter((v) => v.space_id === spaceId);
    const ids = new Set(vlans.map((v) => v.id));
    return {
      id: space ? space.id : UNDEFINED_SPACE_ID,
      name: space ? space.name : UNDEFINED_SPACE_NAME,
      description: space ? space.description : '',
      vlans: vlans.map((v) => vlanJson(v, m.vlans)),
      subnets: m.subnets.filter((s) => ids.has(s.vlan_id)).map((s) => subnetJson(s, m.vlans)),
      resource_uri: `${API}/spaces/${space ? space.id : UNDEFINED_SPACE_ID}/`,
    };
  }

  private async one(key: string) {
    const m = await this.model();
    return this.json(this.svc.isUndefined(key) ? null : await this.svc.spaceOr404(key), m);
  }

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'SpacesHandler',
          doc: 'Manage spaces.',
          path: `${API}/spaces/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all spaces',
              description: 'The undefined space (id -1) is listed while a VLAN is in no space.',
              run: async () => {
                const m = await this.model();
                const out = (await this.svc.list()).map((s) => this.json(s, m));
                if (await this.svc.hasUndefinedSpace()) out.push(this.json(null, m));
                return out;
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a space',
              permission: 'admin',
              params: SPACE_PARAMS,
              run: async (r) => this.one(String(await this.svc.create(input(r)))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'SpaceHandler',
          doc: 'Manage a space (by id or name; -1 is the undefined space).',
          path: `${API}/spaces/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Reads a space', run: (r) => this.one(r.pathParams.id) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update space',
              permission: 'admin',
              params: SPACE_PARAMS,
              run: async (r) => this.one(String(await this.svc.update(r.pathParams.id, input(r)))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a space',
              description: 'Its VLANs go to the undefined space.',
              permission: 'admin',
              run: async (r) => {
                await this.svc.delete(r.pathParams.id);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
