import type { BootConfig } from '@kiln/contracts';
import { BootAnswer, BootConfigSource, BootConfigUnavailableError, BootQuery } from './boot-config.source';

/** An in-memory BootConfigSource for server tests: per-MAC answers, every query recorded. */
export class FakeBootConfigSource implements BootConfigSource {
  readonly answers = new Map<string, BootConfig>();
  readonly queries: BootQuery[] = [];

  async get(query: BootQuery): Promise<BootAnswer> {
    this.queries.push(query);
    const config = this.answers.get(query.mac.toLowerCase());
    if (!config) throw new BootConfigUnavailableError(query.mac, 'no answer configured in the fake');
    return { config, source: 'region', answeredAt: Date.now() };
  }
}
