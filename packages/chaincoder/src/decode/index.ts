export * from './coarse-to-fine.js';
