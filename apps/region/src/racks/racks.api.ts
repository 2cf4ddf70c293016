import { Injectable, OnModuleInit } from '@nestjs/common';
import { RACK_ENROLLMENT_PATH } from '@kiln/contracts';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { describePowerTypes } from '../power/power-types.catalogue';
import { rackJson } from './rack.serializer';
import { MAX_TOKEN_TTL_HOURS, RacksService } from './racks.service';

export { rackJson };

const API = '/MAAS/api/2.0';

/**
 * rackcontrollers/: the racks that registered with this region (registration itself runs over
 * NATS), the one-time tokens new racks enroll with, and deleting a rack, which revokes it first.
 */
@Injectable()
export class RacksApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly racks: RacksService,
  ) {}

  private async createEnrollmentToken(ttlRaw: string | undefined, by: string) {
    let hours = 24;
    if (ttlRaw !== undefined && ttlRaw !== '') {
      if (!/^\d{1,4}$/.test(ttlRaw)) {
        throw new BadRequestError({ ttl_hours: [`Must be a whole number of hours from 1 to ${MAX_TOKEN_TTL_HOURS}.`] });
      }
      hours = Number(ttlRaw);
    }
    const { token, expires } = await this.racks.createEnrollmentToken(hours, by);
    return { token, expires: expires.toISOString(), enroll_path: RACK_ENROLLMENT_PATH };
  }

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'RackControllersHandler',
          doc: 'Manage the collection of all rack controllers in MAAS.',
          path: `${API}/rackcontrollers/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List Nodes visible to the user',
              run: async () => {
                const [racks, nets] = await Promise.all([this.racks.list(), this.racks.networks()]);
                return racks.map((r) => rackJson(r, nets));
              },
            },
            {
              name: 'describe_power_types',
              op: 'describe_power_types',
              method: 'GET',
              title: 'Get power information from rack controllers',
              description: 'Queries all rack controllers for power information.',
              run: () => describePowerTypes(),
            },
            {
              name: 'create_enrollment_token',
              op: 'create_enrollment_token',
              method: 'POST',
              permission: 'admin',
              title: 'Create a rack enrollment token',
              description:
                'Kiln: a one-time secret a new rack enrolls with (KILN_RACK_ENROLL_TOKEN): it is spent by the first rack that ' +
                'presents it before it expires, and the rack is then let onto the NATS bus with its own key. Only its hash is stored.',
              params: [{ name: 'ttl_hours', type: 'Int', doc: `How long the token stays valid, in hours (1 to ${MAX_TOKEN_TTL_HOURS}, default 24).` }],
              run: (r) => this.createEnrollmentToken(r.params.get('ttl_hours'), r.user!.username),
            },
          ],
        },
      },
      {
        auth: {
          name: 'RackControllerHandler',
          doc: 'Manage an individual rack controller.',
          path: `${API}/rackcontrollers/{system_id}/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Read a node',
              run: async (r) => rackJson(await this.racks.get(r.pathParams.system_id), await this.racks.networks()),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              permission: 'admin',
              title: 'Delete a rack controller',
              description:
                'Deletes a rack controller. Kiln revokes it first: its keys are forgotten and the NATS server drops its ' +
                'connection at once, so it can do nothing on the bus and is sent no secrets.',
              run: async (r) => {
                await this.racks.delete(r.pathParams.system_id, r.user!.username);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
