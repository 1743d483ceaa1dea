export * from './store.js';
export * from './run-units.js';
export { isProcessAlive } from './liveness.js';
export { SCHEMA_VERSION } from './schema.js';
