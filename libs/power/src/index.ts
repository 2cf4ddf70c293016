// @kiln/power: power control for the rack, and the power-type catalogue for the region.
// Import the narrowest entry point that serves:
//   @kiln/power/catalogue  settings schemas, validation, error codes (the region)
//   @kiln/power/drivers    the drivers and the retry-and-verify core (the rack)
//   @kiln/power/testing    BMC simulators and other harnesses (tests and benchmarks only)
// This index is the catalogue and the drivers; it never exports test code.
export * from './drivers';
