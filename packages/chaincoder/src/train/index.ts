export * from './batches.js';
export * from './curriculum.js';
export * from './schedule.js';
export * from './trainer.js';
export * from './experiment.js';
export * from './checkpoint.js';
export * from './run.js';
export * from './loss-curve.js';
