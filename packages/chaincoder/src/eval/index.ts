export * from './metrics.js';
export * from './pass-at-k.js';
export * from './evaluate.js';
