/** `sculpt devices`: the compute devices this machine offers, with adapter info, features and limits. */
import type { Command } from '@commander-js/extra-typings';
import type { DeviceInfo } from '@sculpt/runtime-gpu';
import { getContext } from '../context.js';
import { formatRecord, formatTable, output } from '../output.js';

interface DeviceReport extends DeviceInfo {
  kind: 'cpu' | 'webgpu';
  features: string[];
  limits: Record<string, number>;
}

/** Finds the cpu device and the WebGPU adapter, and which one `--device auto` would choose. */
export async function collectDevices(): Promise<{ devices: DeviceReport[]; auto: 'cpu' | 'webgpu' }> {
  const { getCpuDevice, listWebGpuAdapters } = await import('@sculpt/runtime-gpu');
  const cpu = getCpuDevice();
  const devices: DeviceReport[] = [
    { kind: 'cpu', ...cpu.info, features: [...cpu.features], limits: { threads: cpu.sessions.threads } },
  ];
  for (const adapter of await listWebGpuAdapters()) {
    devices.push({ kind: 'webgpu', ...adapter.info, features: adapter.features, limits: adapter.limits });
  }
  const hardwareGpu = devices.some((device) => device.kind === 'webgpu' && !device.isFallbackAdapter);
  return { devices, auto: hardwareGpu ? 'webgpu' : 'cpu' };
}

function describeDevices(report: Awaited<ReturnType<typeof collectDevices>>): string {
  const table = formatTable(
    report.devices.map((device) => ({
      kind: device.kind,
      name: device.name,
      vendor: device.vendor,
      software: device.isFallbackAdapter ? 'yes' : 'no',
      features: device.features.join(', '),
    })),
  );
  const limits = report.devices
    .filter((device) => device.kind === 'webgpu')
    .map((device) => `\n${device.name} limits:\n${formatRecord(device.limits)}`)
    .join('\n');
  const gpuNote = report.devices.some((device) => device.kind === 'webgpu')
    ? ''
    : '\nNo WebGPU adapter found (install a Vulkan driver, e.g. mesa-vulkan-drivers and libvulkan1).';
  return `${table}\n${limits}\n\n--device auto selects: ${report.auto}${report.auto === 'cpu' && report.devices.length > 1 ? ' (software adapters are not chosen automatically; pass --device webgpu)' : ''}${gpuNote}\n`;
}

export function register(program: Command): void {
  program
    .command('devices')
    .description('list compute devices (cpu and WebGPU adapters) with their features and limits')
    .action(async (_options, command) => {
      const context = getContext(command as unknown as Command);
      const { disposeDevices } = await import('@sculpt/runtime-gpu');
      try {
        const report = await collectDevices();
        output(report, { json: context.globals.json, human: describeDevices(report) });
      } finally {
        await disposeDevices();
      }
    });
}
