// The ephemeral image's boot test: builds the image (or takes it from the cache) and boots it in
// QEMU under TCG. A cold build takes 5-10 minutes and the boot 2-4, hence the long timeout.
module.exports = {
  displayName: 'images',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testTimeout: 30 * 60_000,
};
