import { Module } from '@nestjs/common';
import { MachineAccess } from '../machines/machine.access';
import { BuiltinScriptsSeeder } from './builtin-scripts.seeder';
import { ScriptCatalogueService } from './script-catalogue.service';
import { ScriptResultsApi } from './script-results.api';
import { ScriptResultsRepository } from './script-results.repository';
import { ScriptResultsService } from './script-results.service';
import { ScriptsApi } from './scripts.api';
import { ScriptRunsRepository } from './script-runs.repository';
import { ScriptRunsService } from './script-runs.service';
import { ScriptsRepository } from './scripts.repository';

/** Commissioning, testing, release and deployment scripts: the catalogue, runs and results. */
@Module({
  providers: [
    ScriptsRepository,
    BuiltinScriptsSeeder,
    ScriptCatalogueService,
    ScriptsApi,
    MachineAccess,
    ScriptResultsRepository,
    ScriptResultsService,
    ScriptResultsApi,
    ScriptRunsRepository,
    ScriptRunsService,
  ],
  exports: [ScriptsRepository, ScriptRunsRepository, ScriptRunsService],
})
export class ScriptsModule {}
