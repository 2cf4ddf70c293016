// Records transfer events in memory, for tests.
import { TransferEvents, TransferFailed, TransferServed } from './transfer-events.port';

export class RecordingTransferEvents implements TransferEvents {
  readonly servedEvents: TransferServed[] = [];
  readonly failedEvents: TransferFailed[] = [];

  served(event: TransferServed): void {
    this.servedEvents.push(event);
  }

  failed(event: TransferFailed): void {
    this.failedEvents.push(event);
  }
}
