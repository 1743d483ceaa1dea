/**
 * Run manifests: `run-manifest.json` beside the outputs of a run, with the
 * resolved config, package versions, device, seeds and timing. Replaying a run
 * means running its manifest's config again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../fs.js';
import { assertJsonSerializable, configHash, type JsonValue } from './config.js';
import { collectVersions, type Versions } from './versions.js';

export const RUN_MANIFEST_FILE = 'run-manifest.json';
const FORMAT = 'sculpt-run-manifest/1';

export interface DeviceInfo {
  /** 'cpu' or 'webgpu'. */
  kind: string;
  /** Adapter or CPU description, as far as it is known. */
  description?: string;
  [key: string]: JsonValue | undefined;
}

export interface RunManifestInput {
  resolvedConfig: unknown;
  device: DeviceInfo;
  /** Every seed the run used, by stream name. */
  seeds: Record<string, number>;
  startedAt: Date;
  endedAt?: Date;
  status?: 'done' | 'failed' | 'aborted' | 'running';
  error?: string;
  /** Anything else worth keeping (command line, results store run id). */
  extra?: Record<string, JsonValue>;
}

export interface RunManifest {
  format: typeof FORMAT;
  config: JsonValue;
  configHash: string;
  versions: Versions;
  device: DeviceInfo;
  seeds: Record<string, number>;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  status: string;
  error?: string;
  extra?: Record<string, JsonValue>;
}

/** Writes the manifest atomically into `dir` and returns its path. */
export async function writeRunManifest(dir: string, input: RunManifestInput): Promise<string> {
  assertJsonSerializable(input.resolvedConfig, 'run config');
  const manifest: RunManifest = {
    format: FORMAT,
    config: input.resolvedConfig,
    configHash: configHash(input.resolvedConfig),
    versions: collectVersions(),
    device: input.device,
    seeds: input.seeds,
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt ? input.endedAt.toISOString() : null,
    durationMs: input.endedAt ? input.endedAt.getTime() - input.startedAt.getTime() : null,
    status: input.status ?? (input.endedAt ? 'done' : 'running'),
    ...(input.error !== undefined ? { error: input.error } : {}),
    ...(input.extra !== undefined ? { extra: input.extra } : {}),
  };
  const path = join(dir, RUN_MANIFEST_FILE);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return path;
}

/** Reads a manifest written by writeRunManifest (from its directory or the file itself). */
export async function readRunManifest(dirOrFile: string): Promise<RunManifest> {
  const path = dirOrFile.endsWith('.json') ? dirOrFile : join(dirOrFile, RUN_MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read the run manifest: ${(error as Error).message}`, path, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { format?: unknown }).format !== FORMAT) {
    throw new InputError(`not a sculpt run manifest (expected "format": "${FORMAT}")`, path);
  }
  return parsed as RunManifest;
}
