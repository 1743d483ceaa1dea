export * from './batch.js';
export * from './config.js';
export * from './model.js';
export * from './features.js';
export * from './onnx-description.js';
export * from './description-features.js';
export * from './description-encoder-files.js';
