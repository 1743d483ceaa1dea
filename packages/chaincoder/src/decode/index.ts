export * from './coarse-to-fine.js';
export * from './generation-model.js';
export * from './generate.js';
