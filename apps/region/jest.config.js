module.exports = {
  displayName: 'region',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
