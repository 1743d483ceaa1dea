export * from './ast/index.js';
export * from './tokenizer/index.js';
export * from './sandbox/index.js';
export * from './eval/index.js';
export * from './decode/index.js';
export * from './train/index.js';
export * from './model/index.js';
