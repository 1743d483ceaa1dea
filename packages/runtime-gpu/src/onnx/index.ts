export * from './onnx-proto.js';
export * from './schema.js';
export * from './graph-builder.js';
