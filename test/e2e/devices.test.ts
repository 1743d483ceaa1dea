/**
 * `sculpt devices` and `sculpt selfcheck` as a user runs them: the real
 * binary in a child process, on the real cpu device and on the WebGPU
 * adapter that Dawn finds (the Vulkan lavapipe driver on machines without a
 * GPU).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '../..');
const bin = resolve(repoRoot, 'tools/cli/bin/sculpt.js');

/**
 * CI must find an adapter, and so must any machine with Mesa's lavapipe
 * Vulkan driver installed. Elsewhere the tests accept a cpu-only machine.
 */
const adapterRequired = Boolean(process.env.CI) || existsSync('/usr/share/vulkan/icd.d/lvp_icd.json');

function sculpt(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SCULPT_LOG_LEVEL: 'warn' },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface DeviceEntry {
  kind: 'cpu' | 'webgpu';
  name: string;
  vendor: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

interface SelfcheckDocument {
  passed: boolean;
  tolerance: number;
  results: { device: string; name: string; size: number; maxAbsError: number; maxRelError: number; gflops: number; passed: boolean }[];
}

describe('sculpt devices', () => {
  it('lists the cpu device as JSON', () => {
    const { code, stdout, stderr } = sculpt('devices', '--json');
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { devices: DeviceEntry[]; auto: string };

    const cpus = report.devices.filter((device) => device.kind === 'cpu');
    expect(cpus).toHaveLength(1);
    expect(cpus[0].name).not.toBe('');
    expect(cpus[0].isFallbackAdapter).toBe(false);
    expect(cpus[0].limits.threads).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(cpus[0].features)).toBe(true);
  });

  it('lists the WebGPU adapter', () => {
    const { code, stdout, stderr } = sculpt('--json', 'devices');
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { devices: DeviceEntry[]; auto: string };
    const adapters = report.devices.filter((device) => device.kind === 'webgpu');

    if (adapterRequired) expect(adapters.length, 'no WebGPU adapter found; is a Vulkan driver (mesa-vulkan-drivers) installed?').toBeGreaterThan(0);
    for (const adapter of adapters) {
      expect(adapter.name).not.toBe('');
      expect(adapter.limits.maxBufferSize).toBeGreaterThan(0);
      expect(adapter.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
      for (const feature of adapter.features) expect(typeof feature).toBe('string');
    }

    // `--device auto` picks WebGPU only for a hardware adapter, never for a software one such as lavapipe.
    const hardwareAdapter = adapters.some((adapter) => !adapter.isFallbackAdapter);
    expect(report.auto).toBe(hardwareAdapter ? 'webgpu' : 'cpu');
  });

  it('prints a table without --json', () => {
    const { code, stdout, stderr } = sculpt('devices');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^KIND\s+NAME\s+VENDOR\s+SOFTWARE\s+FEATURES$/m);
    expect(stdout).toMatch(/^cpu\s+/m);
    expect(stdout).toContain('--device auto selects:');
  });
});

describe('sculpt selfcheck', () => {
  it('passes on every device', () => {
    const { code, stdout, stderr } = sculpt('selfcheck', '--json');
    expect(code, stderr).toBe(0);
    const document = JSON.parse(stdout) as SelfcheckDocument;
    expect(document.passed).toBe(true);
    expect(document.tolerance).toBeCloseTo(1e-6 * 256, 12);

    const devices = document.results.map((result) => result.device);
    expect(devices).toContain('cpu');
    if (adapterRequired) expect(devices).toContain('webgpu');
    for (const result of document.results) {
      expect(result.size).toBe(256);
      expect(result.maxAbsError, `${result.device} max error`).toBeLessThanOrEqual(document.tolerance);
      expect(result.passed).toBe(true);
      expect(result.gflops).toBeGreaterThan(0);
    }
  });

  it('checks only the device requested', () => {
    const { code, stdout, stderr } = sculpt('--device', 'cpu', '--json', 'selfcheck', '--size', '64');
    expect(code, stderr).toBe(0);
    const document = JSON.parse(stdout) as SelfcheckDocument;
    expect(document.results.map((result) => result.device)).toEqual(['cpu']);
    expect(document.results[0].size).toBe(64);
    expect(document.results[0].maxAbsError).toBeLessThanOrEqual(document.tolerance);
  });

  it('exits 2 on an invalid --device', () => {
    const { code, stdout, stderr } = sculpt('--device', 'nonsense', 'selfcheck');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("argument 'nonsense' is invalid. Allowed choices are auto, cpu, webgpu.");
  });

  it('reports an invalid --size as JSON', () => {
    const { code, stdout } = sculpt('--json', 'selfcheck', '--size', '0');
    expect(code).toBe(2);
    const document = JSON.parse(stdout) as { error: { type: string; message: string; exitCode: number } };
    expect(document.error.type).toBe('UsageError');
    expect(document.error.message).toContain('--size "0"');
    expect(document.error.exitCode).toBe(2);
  });
});
