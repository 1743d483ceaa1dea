/**
 * The process-wide Dawn GPU instance (npm `webgpu`). Dawn keeps the process
 * alive while the object returned by `create()` is reachable, so it is
 * created lazily, once, and dropped by `releaseGpuInstance()`.
 */
import { getLogger } from '@sculpt/core';

const log = getLogger('runtime-gpu:webgpu');

let instance: GPU | null = null;
let loading: Promise<GPU> | null = null;
let globalsInstalled = false;

/** Dawn flags passed to `create()`, e.g. `['adapter=llvmpipe']`. Only the first call's flags apply. */
export async function getGpuInstance(flags: readonly string[] = []): Promise<GPU> {
  if (instance) return instance;
  loading ??= (async () => {
    const webgpu = await import('webgpu');
    if (!globalsInstalled) {
      // GPUBufferUsage, GPUMapMode, ... are read as globals by WebGPU code.
      Object.assign(globalThis, webgpu.globals);
      globalsInstalled = true;
    }
    log.debug(() => `creating Dawn instance with flags [${flags.join(', ')}]`);
    instance = webgpu.create([...flags]);
    return instance;
  })();
  try {
    return await loading;
  } finally {
    loading = null;
  }
}

/** Drops the instance so the process can exit; a later call creates a new one. */
export function releaseGpuInstance(): void {
  instance = null;
}
