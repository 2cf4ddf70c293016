import { Module } from '@nestjs/common';
import { MachinesModule } from '../machines/machines.module';
import { BootConfigHandler } from './boot-config.handler';
import { RackEventsConsumer } from './rack-events.consumer';
import { RackLivenessWorker } from './rack-liveness.worker';
import { RackRegistrationHandler } from './rack-registration.handler';
import { RacksRepository } from './racks.repository';
import { NatsServerConfigWriter } from './nats-server-config.writer';
import { RackEnrollmentController } from './rack-enrollment.controller';
import { RackEnrollmentService } from './rack-enrollment.service';
import { RacksApi } from './racks.api';

/**
 * What the region answers and consumes over NATS for racks: registration and heartbeats, dead-rack
 * detection, boot decisions, and the lease and boot events racks publish to JetStream.
 * Also rackcontrollers/ REST (racks.api.ts): listing, enrollment tokens and deleting (revoking) a rack.
 */
@Module({
  imports: [MachinesModule],
  controllers: [RackEnrollmentController],
  providers: [
    RacksRepository,
    RackRegistrationHandler,
    RackLivenessWorker,
    BootConfigHandler,
    RackEventsConsumer,
    NatsServerConfigWriter,
    RackEnrollmentService,
    RacksApi,
  ],
  exports: [RacksRepository, RackEnrollmentService],
})
export class RacksModule {}
