import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RackConfig } from './config/rack.config';
import { PinoNestLogger } from './logging/logger';
import { RackModule } from './rack.module';

/** Builds and starts the rack (a Nest application context: no HTTP server of Nest's own). */
export async function createRackApp(config: RackConfig, features?: Array<Type<unknown> | DynamicModule>): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(RackModule.forRoot(config, features), {
    logger: new PinoNestLogger(),
    abortOnError: false,
  });
  app.enableShutdownHooks();
  await app.init();
  return app;
}
