// The built-output test (tools/test.sh runs it after `nx run-many -t build`).
module.exports = {
  displayName: 'build',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
