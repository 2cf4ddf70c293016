import { Module } from '@nestjs/common';
import { EventsApi } from './events.api';
import { EventsRepository } from './events.repository';

/** The per-machine event log: where machines and racks append events, and events/ that reads them. */
@Module({
  providers: [EventsRepository, EventsApi],
  exports: [EventsRepository],
})
export class EventsModule {}
