/**
 * Rebuilds calibration samples from provenance: the record indices and token
 * offsets a sampler logged. The same records, tokenizer and settings give the
 * same token ids, so a calibration file can be checked or regenerated, and a
 * sample list logged by another implementation can be imported.
 */
import { InputError } from '@sculpt/core';
import type { CalibrationFormat, PaddingSide, RunMode, SampleProvenance } from '../types.js';
import { padTo } from './samplers.js';

export interface ReplaySettings {
  seqlen: number;
  format: CalibrationFormat;
  padId: number;
  padding: PaddingSide;
  mode: RunMode;
  dataSeqlen?: number;
  numInContext?: number;
}

/** Token ids of record `index` of the sample's split (formatted and tokenized as the sampler does). */
export type RecordTokens = (entry: SampleProvenance, index: number) => Int32Array;

export function replaySamples(provenance: readonly SampleProvenance[], settings: ReplaySettings, tokensOf: RecordTokens): { samples: Int32Array[]; attentionMask?: Uint8Array[] } {
  const samples: Int32Array[] = [];
  const masks: Uint8Array[] = [];
  const padded = settings.format === 'zero' || settings.format === 'single' || settings.dataSeqlen !== undefined || settings.numInContext !== undefined;
  const padding = { padId: settings.padId, side: settings.padding, mode: settings.mode };

  for (const [position, entry] of provenance.entries()) {
    if (entry.records.length === 0) throw new InputError(`provenance entry ${position} lists no records`);
    const parts = entry.records.map((record) => tokensOf(entry, record.index));
    const joined = concat(parts);

    if (settings.format === 'zero' || settings.format === 'single' || settings.numInContext !== undefined) {
      if (joined.length > settings.seqlen) throw new InputError(`provenance entry ${position}: ${joined.length} tokens do not fit in seqlen ${settings.seqlen}`);
      const { ids, mask } = padTo(joined, settings.seqlen, padding);
      samples.push(ids);
      masks.push(mask);
      continue;
    }

    const length = settings.dataSeqlen ?? settings.seqlen;
    if (!Number.isInteger(entry.offset) || entry.offset < 0 || entry.offset + length > joined.length) {
      throw new InputError(`provenance entry ${position}: offset ${entry.offset} + ${length} tokens exceeds the ${joined.length} tokens of its records`);
    }
    const window = joined.slice(entry.offset, entry.offset + length);
    if (settings.dataSeqlen === undefined) {
      samples.push(window);
      continue;
    }
    const { ids, mask } = padTo(window, settings.seqlen, { ...padding, side: 'left', attendPads: true });
    samples.push(ids);
    masks.push(mask);
  }
  return padded ? { samples, attentionMask: masks } : { samples };
}

function concat(parts: Int32Array[]): Int32Array {
  const joined = new Int32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
