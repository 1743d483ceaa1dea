export * from './context.js';
export * from './events.js';
export * from './pipeline.js';
export * from './run.js';
