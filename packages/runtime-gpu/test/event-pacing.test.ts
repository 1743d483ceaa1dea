/**
 * Paced event polling (src/webgpu/event-pacing.ts): the scheduling rules with
 * plain promises, then a real lavapipe wait, where Dawn's own poll loop is
 * counted with and without pacing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { disposeDevices, getDevice, matmul, type WebGpuDevice } from '../src/index.js';
import { pacedWait, setEventPacing } from '../src/webgpu/event-pacing.js';
import { gpuAvailable, seededValues } from './helpers.js';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Schedules a native callback (a bound function) and then a JavaScript one, and returns the order in which they ran. */
async function scheduleBoth(): Promise<string[]> {
  const order: string[] = [];
  const ran = new Promise<void>((resolve) => {
    let left = 2;
    const done = (): void => void (--left === 0 && resolve());
    const native = ((label: string) => { order.push(label); done(); }).bind(null, 'native');
    setImmediate(native);
    setImmediate(() => { order.push('javascript'); done(); });
  });
  await ran;
  return order;
}

describe('pacedWait', () => {
  afterEach(() => setEventPacing(true));

  it('delays native callbacks after one millisecond', async () => {
    const original = globalThis.setImmediate;
    let order: string[] = [];
    await pacedWait(true, async () => {
      await delay(5);
      order = await scheduleBoth();
    });
    expect(order).toEqual(['javascript', 'native']);
    expect(globalThis.setImmediate).toBe(original);
  });

  it('leaves hardware adapters and disabled pacing alone', async () => {
    const original = globalThis.setImmediate;
    let order: string[] = [];
    await pacedWait(false, async () => {
      expect(globalThis.setImmediate).toBe(original);
      await delay(5);
      order = await scheduleBoth();
    });
    expect(order).toEqual(['native', 'javascript']);

    setEventPacing(false);
    await pacedWait(true, async () => {
      expect(globalThis.setImmediate).toBe(original);
    });
  });

  it('restores setImmediate after overlapping waits', async () => {
    const original = globalThis.setImmediate;
    const first = pacedWait(true, () => delay(10));
    const second = pacedWait(true, async () => {
      await delay(2);
      throw new Error('device lost');
    });
    await expect(second).rejects.toThrow('device lost');
    expect(globalThis.setImmediate).not.toBe(original);
    await first;
    expect(globalThis.setImmediate).toBe(original);
  });
});

describe.skipIf(!gpuAvailable && !process.env.CI)('paced waits on lavapipe', () => {
  let device: WebGpuDevice;

  beforeAll(async () => {
    if (!gpuAvailable) throw new Error('CI is set but no WebGPU adapter was found; install mesa-vulkan-drivers and libvulkan1');
    device = (await getDevice('webgpu')) as WebGpuDevice;
  });

  afterAll(async () => {
    setEventPacing(true);
    await disposeDevices();
  });

  /** Counts Dawn's polls (native callbacks handed to setImmediate) during one 512×512·512×1024 matmul and its sync. */
  async function pollsDuringMatmul(): Promise<number> {
    const a = device.tensor(seededValues(512 * 512, 1), [512, 512]);
    const b = device.tensor(seededValues(512 * 1024, 2), [512, 1024]);
    const original = globalThis.setImmediate;
    let polls = 0;
    globalThis.setImmediate = Object.assign((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      if (Function.prototype.toString.call(callback).endsWith('{ [native code] }')) polls++;
      return original(callback, ...args);
    }, { __promisify__: original.__promisify__ }) as typeof setImmediate;
    try {
      const c = matmul(a, b);
      await device.sync();
      c.dispose();
    } finally {
      globalThis.setImmediate = original;
      a.dispose();
      b.dispose();
    }
    return polls;
  }

  it('polls less on a software adapter', async () => {
    expect(device.info.isFallbackAdapter).toBe(true);
    await pollsDuringMatmul(); // compiles the pipeline

    setEventPacing(false);
    const eager = await pollsDuringMatmul();
    setEventPacing(true);
    const paced = await pollsDuringMatmul();

    // A 1 ms timer allows about one poll per millisecond of work, while the eager loop polls without pause.
    // Measured ratios range from about 9 to over 20 with the machine's load, so 4× leaves room yet fails without pacing.
    expect(eager).toBeGreaterThan(4 * paced);
  });
});
