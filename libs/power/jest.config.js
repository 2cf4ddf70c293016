// The power suite: unit specs, and e2e specs against real peers (OpenIPMI's ipmi_sim, the
// Redfish emulator in tools/redfish-emulator, whose own conformance spec runs here too).
module.exports = {
  displayName: 'power',
  preset: '../../jest.preset.js',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/../../tools/redfish-emulator'],
};
