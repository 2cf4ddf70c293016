import { Module } from '@nestjs/common';
import { MachinesModule } from '../machines/machines.module';
import { BootConfigHandler } from './boot-config.handler';
import { RackEventsConsumer } from './rack-events.consumer';
import { RackLivenessWorker } from './rack-liveness.worker';
import { RackRegistrationHandler } from './rack-registration.handler';
import { RacksRepository } from './racks.repository';

/**
 * What the region answers and consumes over NATS for racks: registration and heartbeats, dead-rack
 * detection, boot decisions, and the lease and boot events racks publish to JetStream.
 * (rackcontrollers/ REST lives in racks.api.ts, registered by MachinesModule.)
 */
@Module({
  imports: [MachinesModule],
  providers: [RacksRepository, RackRegistrationHandler, RackLivenessWorker, BootConfigHandler, RackEventsConsumer],
  exports: [RacksRepository],
})
export class RacksModule {}
