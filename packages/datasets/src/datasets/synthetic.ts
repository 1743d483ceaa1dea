/**
 * Control calibration sets without natural text:
 * - `ellipses`: the string "." × 1000, repeated until it is longer than
 *   seqlen tokens, then windowed;
 * - `random`: strings of 1000 random characters from [A-Za-z0-9], drawn from
 *   the seeded generator, concatenated until longer than seqlen tokens, then
 *   windowed. The reference does not seed this loader; here the run seed
 *   makes it reproducible.
 */
import { InputError, Random, throwIfAborted } from '@sculpt/core';
import type { CalibrationDataset, CalibrationFormat, CalibrationRequest, CalibrationSet, DatasetRecord, EvaluationItem, SampleProvenance, Split } from '../types.js';
import { UsageError } from '@sculpt/core';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PIECE_LENGTH = 1000;

export class SyntheticDataset implements CalibrationDataset {
  readonly family = 'synthetic' as const;
  readonly formats: readonly CalibrationFormat[] = ['window'];
  readonly splits = { calibration: 'train', evaluation: null } as const;

  constructor(readonly name: 'ellipses' | 'random') {}

  /** One piece of 1000 characters; `random` draws it from a generator seeded with the index. */
  private piece(random: Random | undefined): string {
    if (this.name === 'ellipses') return '.'.repeat(PIECE_LENGTH);
    let text = '';
    for (let i = 0; i < PIECE_LENGTH; i++) text += ALPHANUMERIC[random!.int(0, ALPHANUMERIC.length - 1)];
    return text;
  }

  async *records(): AsyncIterable<DatasetRecord> {
    yield { fields: { text: this.piece(new Random(0)) }, provenance: { file: `synthetic:${this.name}`, index: 0 } };
  }

  formatExample(record: DatasetRecord, format: CalibrationFormat): string {
    this.checkFormat(format);
    return record.fields.text as string;
  }

  async calibration(request: CalibrationRequest): Promise<CalibrationSet> {
    this.checkFormat(request.format);
    for (const [name, value] of [['nsamples', request.nsamples], ['seqlen', request.seqlen]] as const) {
      if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${name} must be a positive integer, got ${value}`);
    }
    if (request.dataSeqlen !== undefined || request.numInContext !== undefined || request.cotSteps !== undefined) {
      throw new UsageError(`dataset "${this.name}" supports none of dataSeqlen, numInContext and cotSteps`);
    }
    const random = new Random(request.seed);
    const samples: Int32Array[] = [];
    const provenance: SampleProvenance[] = [];
    const split: Split = request.split ?? 'train';

    for (let sample = 0; sample < request.nsamples; sample++) {
      throwIfAborted(request.signal);
      let text = '';
      let tokens: number[] = [];
      // Each added piece adds at least one token, so this ends after at most seqlen + 1 pieces.
      for (let pieces = 0; tokens.length <= request.seqlen; pieces++) {
        if (pieces > request.seqlen + 1) throw new InputError(`${this.name}: the tokenizer produced no tokens for the synthetic text`);
        text += this.piece(random);
        tokens = request.tokenizer.encode(text, { bos: true });
      }
      const start = random.int(0, tokens.length - request.seqlen - 1);
      samples.push(Int32Array.from(tokens.slice(start, start + request.seqlen)));
      request.onSample?.();
      provenance.push({ dataset: this.name, split, records: [{ file: `synthetic:${this.name}`, index: sample }], offset: start });
    }
    return { seqlen: request.seqlen, samples, provenance, padId: request.padId ?? request.tokenizer.padId, padding: request.padding ?? 'left', format: 'window' };
  }

  // eslint-disable-next-line require-yield
  async *evaluationItems(): AsyncIterable<EvaluationItem> {
    throw new InputError(`${this.name} is a synthetic control set and has no evaluation items`);
  }

  private checkFormat(format: CalibrationFormat): void {
    if (format !== 'window') throw new UsageError(`dataset "${this.name}" does not support format "${format}"; supported formats: window`);
  }
}
