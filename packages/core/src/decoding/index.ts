export * from './model.js';
export { argmax, logSoftmax, sampleToken, toMask, type SamplingOptions } from './logits.js';
export { plugins as decoderPlugins } from './plugins.js';
