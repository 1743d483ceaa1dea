export * from './batches.js';
export * from './curriculum.js';
export * from './schedule.js';
