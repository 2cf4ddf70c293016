import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource } from '@kiln/db';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';

@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [REGION_CONFIG],
      useFactory: async (config: RegionConfig) => {
        const ds = createDataSource(config.db);
        await ds.initialize();
        const pending = await ds.showMigrations();
        if (pending) {
          // Refuse to serve on a schema older than the code: run `kiln migrate` first.
          await ds.destroy();
          throw new Error('the database has migrations that have not been applied; run `kiln migrate` first');
        }
        log().info({ db: new URL(config.db.url).pathname }, 'connected to postgres');
        return ds;
      },
    },
  ],
  exports: [DataSource],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}
  async onApplicationShutdown() {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
