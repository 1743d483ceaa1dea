/**
 * Moving host arrays in and out of a runtime device without the copies that
 * `device.tensor` and `read()` make. Only the cpu device can share memory
 * with the host; other devices upload and download as usual.
 */
import { CpuDevice, type Device, type Tensor } from '@sculpt/runtime-gpu';

/** Wraps `data` as a tensor. On the cpu device the array itself is used, so the caller must not change it while the tensor lives. */
export function wrapHostArray(device: Device, data: Float32Array, shape: number[]): Tensor {
  return device instanceof CpuDevice ? device.adopt(data, shape, 'f32') : device.tensor(data, shape);
}

/** Reads `tensor` for one use: on the cpu device its own array, valid until the tensor is disposed and not to be written. */
export async function readForOneUse(device: Device, tensor: Tensor): Promise<ArrayLike<number>> {
  return device instanceof CpuDevice ? device.readShared(tensor) : tensor.read();
}
