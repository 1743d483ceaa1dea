/** Small tensor utilities the tape and gradient functions share. */
import { add } from '../../ops.js';
import type { Tensor } from '../../tensor.js';

/** Creates a tensor of `like`'s shape and device filled with `value`. */
export function onesLike(like: Tensor, value = 1): Tensor {
  return like.device.tensor(new Float32Array(like.size).fill(value), like.shape, 'f32');
}

/** Returns a + b and disposes both operands (gradient accumulation). */
export function addInto(a: Tensor, b: Tensor): Tensor {
  const sum = add(a, b);
  a.dispose();
  b.dispose();
  return sum;
}
