import { Module } from '@nestjs/common';
import { BuiltinScriptsSeeder } from './builtin-scripts.seeder';
import { ScriptRunsRepository } from './script-runs.repository';
import { ScriptRunsService } from './script-runs.service';
import { ScriptsRepository } from './scripts.repository';

/** Commissioning, testing, release and deployment scripts: the catalogue, runs and results. */
@Module({
  providers: [ScriptsRepository, BuiltinScriptsSeeder, ScriptRunsRepository, ScriptRunsService],
  exports: [ScriptsRepository, ScriptRunsRepository, ScriptRunsService],
})
export class ScriptsModule {}
