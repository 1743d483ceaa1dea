/** Versions of everything that can change a run's numbers, recorded in every run manifest. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

const SCULPT_PACKAGES = ['@sculpt/core', '@sculpt/runtime-gpu', '@sculpt/datasets', '@sculpt/pruners', '@sculpt/chaincoder', '@sculpt/cli'];
const THIRD_PARTY = ['onnxruntime-node', 'webgpu', 'zod', 'better-sqlite3'];

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    const json = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string };
    return json.version ?? null;
  } catch {
    // Not installed (or its exports hide package.json): recorded as null.
    return null;
  }
}

export interface Versions {
  node: string;
  platform: string;
  arch: string;
  /** Package name to version, null when the package is not installed. */
  packages: Record<string, string | null>;
}

export function collectVersions(): Versions {
  const packages: Record<string, string | null> = {};
  for (const name of [...SCULPT_PACKAGES, ...THIRD_PARTY]) packages[name] = packageVersion(name);
  return { node: process.versions.node, platform: `${os.platform()} ${os.release()}`, arch: os.arch(), packages };
}
