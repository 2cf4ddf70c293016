import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse, HandlerDef } from '../api/api.types';
import { regionJson } from './region-controller.serializer';
import { RegionRow } from './region-controllers.repository';
import { RegionControllersService } from './region-controllers.service';

const API = '/MAAS/api/2.0';

/**
 * regioncontrollers/ and regioncontrollers/{system_id}/ (MAAS's paths; region-controllers/ routes
 * there too): the region processes recorded in Postgres, this one and its peers.
 */
@Injectable()
export class RegionControllersApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: RegionControllersService,
  ) {}

  private async json(rows: RegionRow[]) {
    const domain = await this.svc.defaultDomain();
    const now = Date.now();
    return rows.map((r) => regionJson(r, this.svc.status(r, now), domain));
  }

  onModuleInit() {
    const collection = (path: string, alias: boolean): HandlerDef => ({
      name: 'RegionControllersHandler',
      doc: 'Manage the collection of all region controllers in MAAS.',
      path,
      alias,
      actions: [{ name: 'read', op: null, method: 'GET', title: 'List Nodes visible to the user', run: async () => this.json(await this.svc.list()) }],
    });
    const item = (path: string, alias: boolean): HandlerDef => ({
      name: 'RegionControllerHandler',
      doc: 'Manage an individual region controller.',
      path,
      alias,
      actions: [
        { name: 'read', op: null, method: 'GET', title: 'Read a node', run: async (r) => (await this.json([await this.svc.get(r.pathParams.system_id)]))[0] },
        {
          name: 'delete',
          op: null,
          method: 'DELETE',
          title: 'Delete a region controller',
          description: 'Refused while the region is running (it heartbeats); delete the record of a region that is gone.',
          permission: 'admin',
          run: async (r) => {
            await this.svc.delete(r.pathParams.system_id);
            return ApiResponse.noContent();
          },
        },
      ],
    });
    this.registry.register(
      { auth: collection(`${API}/regioncontrollers/`, false) },
      { auth: item(`${API}/regioncontrollers/{system_id}/`, false) },
      { auth: collection(`${API}/region-controllers/`, true) },
      { auth: item(`${API}/region-controllers/{system_id}/`, true) },
    );
  }
}
