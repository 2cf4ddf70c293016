/**
 * @kiln/scripts: everything about commissioning/testing scripts that is neither HTTP nor database:
 * the embedded metadata and result YAML parsers, the maas-scripts tarball, the built-in scripts
 * and the runner's user-data. Pure TypeScript: no framework.
 */
export * from './script.enums';
export * from './script-metadata.errors';
export * from './script-parameters.parser';
export * from './script-metadata.parser';
export * from './result-yaml.parser';
export * from './script-result.status';
export * from './tar.writer';
export * from './maas-scripts.tarball';
export * from './user-data.renderer';
export * from './builtin.catalogue';
export * from './installer.renderer';
