import { BootDevice, ChangeOutcome, PowerDriver, PowerState } from '../../power.types';
import { MANUAL_TYPE } from './manual.settings';

const ask = (what: string): ChangeOutcome => ({
  kind: 'manual',
  message: `This machine has no power control (power type manual): ${what}.`,
});

/** Query answers unknown; every change asks the operator to do it by hand. */
export class ManualDriver implements PowerDriver<Record<string, never>> {
  readonly def = MANUAL_TYPE;
  readonly canQueryBootDevice = false;

  parseSettings(): Record<string, never> {
    return {};
  }

  bmcKey(): string {
    return 'manual';
  }

  async query(): Promise<PowerState> {
    return 'unknown';
  }

  async on(): Promise<ChangeOutcome> {
    return ask('power it on by hand');
  }

  async off(): Promise<ChangeOutcome> {
    return ask('power it off by hand');
  }

  async cycle(): Promise<ChangeOutcome> {
    return ask('power cycle it by hand (or power it on if it is off)');
  }

  async setBootDevice(_s: Record<string, never>, device: BootDevice): Promise<ChangeOutcome> {
    return ask(device === 'pxe' ? 'make it boot from the network (PXE) on its next start' : 'make it boot from its local disk on its next start');
  }

  async queryBootDevice(): Promise<BootDevice | 'none' | 'other'> {
    return 'none';
  }
}
