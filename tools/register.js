// Runs Kiln's TypeScript sources directly: SWC compiles each module on load, honouring
// tsconfig paths (@kiln/*) and decorator metadata (NestJS dependency injection needs it).
const path = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
