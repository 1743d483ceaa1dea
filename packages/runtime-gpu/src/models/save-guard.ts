/** Rules shared by every writer: no silent overwrite, and no half-written model on disk. */
import { rename, rm, stat, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, temporarySibling } from '@sculpt/core';
import type { CausalLM, SaveOptions } from './model.js';

/** Rejects writing over an existing path (the input model included) unless `force` is set. */
export async function checkOverwrite(model: CausalLM | undefined, outPath: string, options: SaveOptions): Promise<void> {
  if (options.force) return;
  if (model !== undefined && resolve(outPath) === resolve(model.source.path)) {
    throw new UsageError(`output ${outPath} is the input model; choose another path or pass --force to overwrite it`);
  }
  const exists = await stat(outPath).then(
    () => true,
    () => false,
  );
  if (exists) throw new UsageError(`output ${outPath} already exists; choose another path or pass --force to replace it`);
}

/**
 * Builds a folder under a temporary sibling name and renames it into place at
 * the end, so readers never see a partial model. An existing folder is
 * replaced only after the new one is complete.
 */
export async function writeFolderAtomic(outPath: string, build: (folder: string) => Promise<void>): Promise<void> {
  const temporary = temporarySibling(outPath);
  await mkdir(temporary, { recursive: true });
  try {
    await build(temporary);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }

  const previous = temporarySibling(outPath);
  const existed = await rename(outPath, previous).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(temporary, outPath);
  if (existed) await rm(previous, { recursive: true, force: true });
}
