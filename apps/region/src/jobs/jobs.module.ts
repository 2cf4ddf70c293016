import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { LIFECYCLE_QUEUE, LIFECYCLE_QUEUE_NAME } from './jobs.types';

export function bullConnection(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    password: u.password || undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

@Global()
@Module({
  providers: [
    {
      provide: LIFECYCLE_QUEUE,
      inject: [REGION_CONFIG],
      useFactory: (config: RegionConfig) =>
        new Queue(LIFECYCLE_QUEUE_NAME, {
          connection: bullConnection(config.redis.url),
          prefix: config.redis.prefix,
          defaultJobOptions: {
            attempts: 5,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { count: 1000 },
            removeOnFail: { count: 5000 },
          },
        }),
    },
  ],
  exports: [LIFECYCLE_QUEUE],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(@Inject(LIFECYCLE_QUEUE) private readonly queue: Queue) {}
  async onApplicationShutdown() {
    await this.queue.close();
  }
}
