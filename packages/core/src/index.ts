export * from './errors.js';
export * from './fs.js';
export * from './logger.js';
export * from './random.js';
export * from './plugin.js';
