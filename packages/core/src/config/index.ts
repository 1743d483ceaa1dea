export * from './config.js';
export * from './manifest.js';
export * from './versions.js';
