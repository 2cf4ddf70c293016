import { Module } from '@nestjs/common';
import { BuiltinScriptsSeeder } from './builtin-scripts.seeder';
import { ScriptsRepository } from './scripts.repository';

/** Commissioning, testing, release and deployment scripts: the catalogue, runs and results. */
@Module({
  providers: [ScriptsRepository, BuiltinScriptsSeeder],
  exports: [ScriptsRepository],
})
export class ScriptsModule {}
