/**
 * Transformer kernels, autograd and training utilities. Importing this module
 * registers the nn kernels for every device and the gradient functions.
 */
import { registerNnGradients } from './autograd/gradients.js';
import { registerCpuNnKernels } from './cpu/kernels.js';
import { registerWebGpuNnKernels } from './webgpu/kernels.js';
import { registerExtremum } from './extremum.js';

registerCpuNnKernels();
registerWebGpuNnKernels();
registerNnGradients();
registerExtremum();

export * as nn from './functional.js';
export { reduceMax, reduceMin } from './extremum.js';
export { writeTensor } from './write-tensor.js';
export { IGNORE_INDEX, type AttentionOptions, type RopeConfig } from './functional.js';
export { Tape, activeTape, noGrad, recordTape } from './autograd/tape.js';
export { registerGradient, getGradient, listGradients, type GradientFunction, type TapeNode } from './autograd/registry.js';
export { AdamW, type AdamWOptions, type ParameterGroup } from './optim/adamw.js';
export { DynamicLossScaler, type LossScalerOptions } from './optim/loss-scaler.js';
export * from './modules/config.js';
export * from './modules/block.js';
export * from './modules/language-model.js';
export { ParameterStore } from './modules/parameters.js';
export * as nnReference from './reference.js';
export { setCpuAttentionStrategy, type CpuAttentionStrategy } from './cpu/kernels.js';
export type { ActivationName, RopeLayout, AttentionShape } from './reference.js';
