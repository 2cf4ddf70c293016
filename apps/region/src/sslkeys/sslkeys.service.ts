import { Injectable } from '@nestjs/common';
import { forbidden, invalid, notFound } from '../common/domain.error';
import { isPemCertificate } from './ssl-key.validator';
import { SslKeyRow, SslKeysRepository } from './sslkeys.repository';

export interface SslKeyActor {
  id: number;
  isAdmin: boolean;
}

/** Users' SSL keys (PEM certificates), each owned by one user, as MAAS's SSLKey model. */
@Injectable()
export class SslKeysService {
  constructor(private readonly repo: SslKeysRepository) {}

  list(caller: SslKeyActor): Promise<SslKeyRow[]> {
    return this.repo.list(caller.id);
  }

  async add(caller: SslKeyActor, raw: string | undefined): Promise<SslKeyRow> {
    const key = (raw ?? '').trim();
    if (!key) throw invalid({ key: ['This field is required.'] });
    if (!isPemCertificate(key)) throw invalid({ key: ['Invalid SSL key.'] });
    const row = await this.repo.insert(caller.id, key);
    if (!row) throw invalid({ __all__: ['This key has already been added for this user.'] });
    return row;
  }

  /** A key the caller owns; MAAS refuses anyone else's, administrators' included. */
  async get(caller: SslKeyActor, id: number, verb: 'get' | 'delete' = 'get'): Promise<SslKeyRow> {
    const k = Number.isInteger(id) ? await this.repo.find(id) : null;
    if (!k) throw notFound('No SSLKey matches the given query.');
    if (k.userId !== caller.id) throw forbidden(`Can't ${verb} a key you don't own.`);
    return k;
  }

  async delete(caller: SslKeyActor, id: number): Promise<void> {
    await this.repo.delete((await this.get(caller, id, 'delete')).id);
  }
}
