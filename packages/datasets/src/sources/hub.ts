/**
 * Hugging Face Hub downloads, used only when a dataset has no local files.
 *
 * Settings follow the Python `huggingface_hub` conventions:
 * - `HF_ENDPOINT`: the hub URL (default https://huggingface.co);
 * - `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`: the cache;
 * - `HF_HUB_OFFLINE=1`: never download, use the cache only.
 *
 * Cached files live at `<cache>/datasets--<owner>--<name>/snapshots/<revision>/<path>`.
 * A branch name is resolved through `refs/<branch>` when Python filled the
 * cache. Files downloaded here are stored under the revision as given, with
 * "/" written as "%2F" so that `refs/convert/parquet` stays one folder.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadFile } from '@huggingface/hub';
import { InputError, getLogger, temporarySibling, throwIfAborted } from '@sculpt/core';
import type { Split } from '../types.js';

const log = getLogger('datasets:hub');

export interface HubSettings {
  endpoint: string;
  cacheDir: string;
  offline: boolean;
}

/** A file in a Hugging Face dataset repository. */
export interface HubFile {
  repo: string;
  revision: string;
  path: string;
}

/**
 * Branch of a dataset repository where the Hugging Face dataset viewer stores
 * its Parquet conversion, as `{config}/{split}/{shard:04d}.parquet`. Datasets
 * whose repository holds only a loading script are read from there.
 */
export const PARQUET_CONVERSION_REVISION = 'refs/convert/parquet';

/** Returns the first Parquet shard of each split in the dataset viewer's conversion of one config. */
export function parquetConversionFiles(config: string, splits: Partial<Record<Split, string>>): Partial<Record<Split, string[]>> {
  const files: Partial<Record<Split, string[]>> = {};
  for (const [split, folder] of Object.entries(splits) as [Split, string][]) files[split] = [`${config}/${folder}/0000.parquet`];
  return files;
}

export function hubSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const home = env.HF_HOME ?? join(homedir(), '.cache', 'huggingface');
  const offline = ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase());
  return {
    endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    cacheDir: env.HF_HUB_CACHE ?? join(home, 'hub'),
    offline,
  };
}

function repoFolder(settings: HubSettings, repo: string): string {
  return join(settings.cacheDir, `datasets--${repo.split('/').join('--')}`);
}

function snapshotFolder(settings: HubSettings, file: HubFile): string {
  return join(repoFolder(settings, file.repo), 'snapshots', file.revision.split('/').join('%2F'));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Returns the cached path of a hub file, or undefined when it is not cached. */
export async function cachedHubFile(file: HubFile, settings: HubSettings): Promise<string | undefined> {
  const folder = repoFolder(settings, file.repo);
  const direct = join(snapshotFolder(settings, file), file.path);
  if (await exists(direct)) return direct;

  try {
    const commit = (await readFile(join(folder, 'refs', file.revision), 'utf8')).trim();
    const viaRef = join(folder, 'snapshots', commit, file.path);
    if (await exists(viaRef)) return viaRef;
  } catch {
    // No ref for this revision: the file is simply not cached.
  }
  return undefined;
}

/** Returns a local path for the hub file, downloading it into the cache when needed and allowed. */
export async function fetchHubFile(file: HubFile, settings: HubSettings, signal?: AbortSignal): Promise<string> {
  const cached = await cachedHubFile(file, settings);
  if (cached !== undefined) return cached;

  const where = `${file.repo}@${file.revision}:${file.path}`;
  if (settings.offline) {
    throw new InputError(
      `${where} is not in the Hugging Face cache ${settings.cacheDir} and HF_HUB_OFFLINE is set; ` +
        'put the file in the data directory, or unset HF_HUB_OFFLINE to download it',
    );
  }
  throwIfAborted(signal);

  log.info(`downloading ${where} from ${settings.endpoint}`);
  let blob: Blob | null;
  try {
    blob = await downloadFile({ repo: { type: 'dataset', name: file.repo }, path: file.path, revision: file.revision, hubUrl: settings.endpoint });
  } catch (error) {
    throw new InputError(`download of ${where} from ${settings.endpoint} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (blob === null) throw new InputError(`${where} was not found on ${settings.endpoint}; check the dataset revision and file name`);

  const target = join(snapshotFolder(settings, file), file.path);
  await mkdir(dirname(target), { recursive: true });
  const temporary = temporarySibling(target);
  try {
    await pipeline(Readable.fromWeb(blob.stream() as WebReadableStream), createWriteStream(temporary), { signal });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new InputError(`download of ${where} from ${settings.endpoint} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  log.info(`stored ${where} at ${target}`);
  return target;
}
