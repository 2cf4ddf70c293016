module.exports = {
  displayName: 'rack',
  preset: '../../jest.preset.js',
  rootDir: '.',
};
