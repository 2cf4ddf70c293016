import { bmcHost, chooseRacks, RackCandidate } from './rack-selection';

const rack = (systemId: string, addresses: string[], powerUnavailable: Record<string, string> = {}): RackCandidate => ({ systemId, addresses, powerUnavailable });

describe('rack selection for a BMC', () => {
  it('reads the host out of every form of power address', () => {
    expect(bmcHost('10.0.0.5')).toBe('10.0.0.5');
    expect(bmcHost('10.0.0.5:623')).toBe('10.0.0.5');
    expect(bmcHost('https://10.0.0.5/redfish/v1')).toBe('10.0.0.5');
    expect(bmcHost('qemu+ssh://kiln@10.0.0.5/system')).toBe('10.0.0.5');
    expect(bmcHost('[fd00::5]:623')).toBe('fd00::5');
    expect(bmcHost('fd00::5')).toBe('fd00::5');
    expect(bmcHost('bmc.example.com')).toBeNull();
    expect(bmcHost(undefined)).toBeNull();
  });

  it('tries racks on the BMC subnet first, then the others, keeping heartbeat order within each', () => {
    const racks = [rack('far1', ['192.168.1.2/24']), rack('near1', ['10.0.0.2/24']), rack('far2', []), rack('near2', ['172.16.0.1/16', '10.0.0.3/24'])];
    expect(chooseRacks(racks, 'ipmi', '10.0.0.5').racks).toEqual(['near1', 'near2', 'far1', 'far2']);
    expect(chooseRacks(racks, 'ipmi', 'fd00::5').racks).toEqual(['far1', 'near1', 'far2', 'near2']);
  });

  it('never picks a rack that cannot drive the power type, and says why', () => {
    const racks = [rack('a', ['10.0.0.2/24'], { ipmi: 'ipmipower is not installed' }), rack('b', ['192.168.0.2/24'])];
    expect(chooseRacks(racks, 'ipmi', '10.0.0.5')).toEqual({ racks: ['b'], refused: [{ rackId: 'a', reason: 'ipmipower is not installed' }] });
    expect(chooseRacks(racks, 'redfish', '10.0.0.5').racks).toEqual(['a', 'b']);
  });
});
