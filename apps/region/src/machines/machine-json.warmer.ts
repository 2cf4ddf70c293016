import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { log } from '../logging/logger';
import { MachineJsonCache } from './machine-json.cache';
import { SqlWhere } from './machine.filters';
import { MachinesRepository } from './machines.repository';

const BATCH = 1000;

/**
 * Renders every machine into the listing cache in the background after start-up, in batches
 * that yield to requests, so the first full listing after a region (re)start is as fast as later ones.
 */
@Injectable()
export class MachineJsonWarmer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly repo: MachinesRepository,
    private readonly cache: MachineJsonCache,
  ) {}

  onApplicationBootstrap() {
    this.running = this.warm().catch((err) => log().warn({ err }, 'listing cache warm-up stopped'));
  }

  async onApplicationShutdown() {
    this.stopped = true;
    await this.running;
  }

  private async warm(): Promise<void> {
    const started = Date.now();
    let after = 0;
    let rendered = 0;
    while (!this.stopped) {
      const w = new SqlWhere();
      w.add('m.id > ?', after);
      const batch = await this.repo.list(w, { limit: BATCH });
      if (!batch.length) break;
      for (const rec of batch) if (!this.cache.get(rec.row.id, rec.row.render_key)) this.cache.render(rec);
      rendered += batch.length;
      after = batch[batch.length - 1].row.id;
      await new Promise((r) => setImmediate(r));
    }
    if (rendered) log().info({ machines: rendered, ms: Date.now() - started }, 'machine listing cache warmed');
  }
}
