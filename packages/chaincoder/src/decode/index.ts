export * from './coarse-to-fine.js';
export * from './generation-model.js';
export * from './generate.js';
export * from './trained-model.js';
export * from './frame-brackets.js';
