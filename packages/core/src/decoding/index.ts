export * from './model.js';
export { argmax, logSoftmax, sampleToken, toMask, topTokens, type SamplingOptions } from './logits.js';
export { plugins as decoderPlugins } from './plugins.js';
