export * from './compare.js';
export * from './isolation.js';
export * from './judge.js';
export * from './limits.js';
export * from './sandbox.js';
