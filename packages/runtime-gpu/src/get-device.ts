/**
 * Device selection. Each kind is created once per process and shared;
 * `disposeDevices()` releases them (the webgpu device keeps the process
 * alive until released).
 *
 * `auto` picks a hardware WebGPU adapter when one exists and the cpu device
 * otherwise. It never picks a software adapter (Mesa lavapipe reports
 * `isFallbackAdapter` or a device name containing "llvmpipe"), because those
 * are slower than the cpu device. Request `webgpu` to use one.
 */
import { getLogger, UsageError } from '@sculpt/core';
import { CpuDevice } from './cpu/cpu-device.js';
import type { Device, DeviceRequest } from './device.js';
import { createWebGpuDevice, probeWebGpuAdapter, type WebGpuOptions } from './webgpu/webgpu-device.js';

const log = getLogger('runtime-gpu:device');

const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'webgpu'];

let cpuDevice: CpuDevice | null = null;
let webgpuDevice: Promise<Device> | null = null;

export function parseDeviceRequest(value: string): DeviceRequest {
  if ((DEVICE_REQUESTS as readonly string[]).includes(value)) return value as DeviceRequest;
  throw new UsageError(`Invalid device '${value}'; expected one of ${DEVICE_REQUESTS.join(', ')}`);
}

export async function getDevice(request: DeviceRequest = 'auto', options: WebGpuOptions = {}): Promise<Device> {
  switch (request) {
    case 'cpu':
      return getCpuDevice();
    case 'webgpu':
      return getWebGpuDevice(options);
    case 'auto': {
      const probe = await probeWebGpuAdapter(options);
      if (probe.adapter && !probe.adapter.isFallbackAdapter) return getWebGpuDevice(options);
      log.debug(() => `auto: using cpu (${probe.adapter ? `software adapter ${probe.adapter.name}` : probe.reason})`);
      return getCpuDevice();
    }
  }
}

export function getCpuDevice(): CpuDevice {
  if (cpuDevice === null || cpuDevice.disposed) cpuDevice = new CpuDevice();
  return cpuDevice;
}

function getWebGpuDevice(options: WebGpuOptions): Promise<Device> {
  if (webgpuDevice === null) {
    webgpuDevice = createWebGpuDevice(options);
    webgpuDevice.then(
      (device) => device,
      () => {
        webgpuDevice = null;
      },
    );
  }
  return webgpuDevice.then((device) => {
    if (!device.disposed) return device;
    webgpuDevice = null;
    return getWebGpuDevice(options);
  });
}

/** Releases every device created by `getDevice`, so the process can exit. */
export async function disposeDevices(): Promise<void> {
  cpuDevice?.dispose();
  cpuDevice = null;
  if (webgpuDevice !== null) {
    const pending = webgpuDevice;
    webgpuDevice = null;
    try {
      (await pending).dispose();
    } catch {
      // Creation failed, so there is nothing to release.
    }
  }
}
