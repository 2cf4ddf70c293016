import { Module } from '@nestjs/common';
import { BootResourcesModule } from '../boot-resources/boot-resources.module';
import { EventsModule } from '../events/events.module';
import { BootConfigHandler } from './boot-config.handler';
import { RackEventsConsumer } from './rack-events.consumer';
import { RackLivenessWorker } from './rack-liveness.worker';
import { RackRegistrationHandler } from './rack-registration.handler';
import { RacksRepository } from './racks.repository';
import { RackNetworksRepository } from './rack-networks.repository';
import { RackNetworksService } from './rack-networks.service';
import { NetworkingModule } from '../networking/networking.module';
import { DiscoveriesModule } from '../discoveries/discoveries.module';
import { NatsServerConfigWriter } from './nats-server-config.writer';
import { RackEnrollmentController } from './rack-enrollment.controller';
import { RackEnrollmentService } from './rack-enrollment.service';
import { RacksApi } from './racks.api';
import { RacksService } from './racks.service';

/**
 * What the region answers and consumes over NATS for racks: registration and heartbeats, dead-rack
 * detection, boot decisions, and the lease and boot events racks publish to JetStream (appended to
 * the event log, hence events).
 * Also rackcontrollers/ REST (racks.api.ts over racks.service.ts): listing, enrollment tokens and
 * deleting (revoking) a rack.
 */
@Module({
  imports: [EventsModule, BootResourcesModule, NetworkingModule, DiscoveriesModule],
  controllers: [RackEnrollmentController],
  providers: [
    RacksRepository,
    RackNetworksRepository,
    RackNetworksService,
    RackRegistrationHandler,
    RackLivenessWorker,
    BootConfigHandler,
    RackEventsConsumer,
    NatsServerConfigWriter,
    RackEnrollmentService,
    RacksService,
    RacksApi,
  ],
  exports: [RacksRepository, RackEnrollmentService, RacksService],
})
export class RacksModule {}
