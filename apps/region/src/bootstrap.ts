import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { RegionConfig } from './config/region.config';
import { PinoNestLogger } from './logging/logger';

/** Builds the region application (HTTP API + lifecycle worker) without listening. */
export async function createRegionApp(config: RegionConfig): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bodyParser: false,
    logger: new PinoNestLogger(),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  const http = app.getHttpAdapter().getInstance();
  http.disable('x-powered-by');
  http.set('etag', false);
  return app;
}
