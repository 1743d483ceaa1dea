/**
 * The dataset instance contract: what `create` of every `dataset` plugin
 * returns. The pruners package builds calibration sets and evaluation items
 * through this interface only.
 *
 * Usage:
 *
 *   const plugin = await registry.load('dataset', 'gsm8k');
 *   const dataset = await plugin.create({ dataDir }, context);   // a CalibrationDataset
 *   const set = await dataset.calibration({ tokenizer, format: 'icl', nsamples: 128, seqlen: 2048, seed: 0 });
 *   for await (const item of dataset.evaluationItems('test')) { ... }
 *
 * Records are normalized to the Hugging Face field names listed per dataset
 * (e.g. gsm8k: question, answer), whatever layout the file on disk had.
 *
 * "The reference" in this package's comments is the calibration-data code of
 * Bandari et al., "Is C4 Dataset Optimal for Pruning?" (EMNLP 2024).
 */
import type { Tokenizer } from './tokenizers/types.js';

/**
 * Calibration sample formats.
 * - `zero`: the question prompt without its answer, padded to seqlen.
 * - `single`: one question-answer string, padded to seqlen.
 * - `icl`: separately tokenized question-answer strings (each with its own BOS)
 *   concatenated past seqlen, then a random seqlen window (the reference's `concat`).
 * - `cot`: like `icl`, with the rationale form `... {rationale} So the answer is {answer}.`
 * - `window`: pre-training text; a random seqlen window of one document longer than seqlen.
 */
export const CALIBRATION_FORMATS = ['zero', 'single', 'icl', 'cot', 'window'] as const;
export type CalibrationFormat = (typeof CALIBRATION_FORMATS)[number];

/** Split names as Hugging Face uses them; `all` is a file that contains every split (e.g. SVAMP.json). */
export const SPLITS = ['train', 'validation', 'test', 'all'] as const;
export type Split = (typeof SPLITS)[number];

/** Side on which padded formats are padded. */
export type PaddingSide = 'left' | 'right';

/**
 * `faithful` reproduces the reference's padding numerics (pads attended when
 * the reference does so); `clean` masks every pad.
 */
export type RunMode = 'faithful' | 'clean';

export type DatasetFamily = 'pretraining' | 'downstream' | 'synthetic' | 'custom';

/** Origin of a record, written to calibration files for replay and audit. */
export interface RecordProvenance {
  /**
   * File the record was read from: relative to the data directory when under
   * it, `hf://datasets/<repo>@<revision>/<path>` for hub files, `synthetic:<name>`
   * for control sets, otherwise absolute.
   */
  file: string;
  /** 0-based index of the record within its split, across all files of the split. */
  index: number;
  /** 1-based line number for line-oriented files. */
  line?: number;
}

export interface DatasetRecord {
  /** Normalized field values (Hugging Face names for the dataset). */
  fields: Readonly<Record<string, unknown>>;
  provenance: RecordProvenance;
}

/** One downstream test item; the evaluation task adds its demonstrations. */
export interface EvaluationItem {
  id: string;
  /** The zero-shot prompt, ending where the model must continue (e.g. `Question: ...\nAnswer: `). */
  prompt: string;
  /** Gold answer as the metric compares it (number string, label word, letter, `1`/`2`, equation). */
  answer: string;
  /** Answer options in order, for multiple choice sets. */
  choices?: string[];
  /** Gold rationale, where the dataset has one. */
  rationale?: string;
  provenance: RecordProvenance;
}

export interface CalibrationRequest {
  tokenizer: Tokenizer;
  format: CalibrationFormat;
  nsamples: number;
  seqlen: number;
  seed: number;
  /** Split to draw from. Default `train`. */
  split?: Split;
  /** Default `left`, as the reference. */
  padding?: PaddingSide;
  /** Pad id; default `tokenizer.padId`. */
  padId?: number;
  /** Default `clean`. */
  mode?: RunMode;
  /** Maximum document draws per window before the sampler gives up. Default 10 000. */
  maxAttempts?: number;
  /**
   * `window` only: take windows of this many tokens and left-pad them to
   * seqlen (the reference's C4 `--data_seqlen`). In faithful mode the pads are
   * attended, as in the reference; in clean mode they are masked.
   */
  dataSeqlen?: number;
  /** `icl`/`cot` only: concatenate exactly this many examples and pad to seqlen instead of windowing (`--num_incontext`). */
  numInContext?: number;
  /** `cot` only: keep examples whose "{rationale} So the answer is {answer}." part contains exactly this many ". " (`--num_cot_steps`). */
  cotSteps?: number;
  signal?: AbortSignal;
  /** Called after each finished sample, e.g. to advance a progress bar. */
  onSample?: () => void;
}

/** Origin of one calibration sample. */
export interface SampleProvenance {
  dataset: string;
  split: Split;
  /** Records used, in order: one for window/zero/single, several for icl/cot. */
  records: RecordProvenance[];
  /** Token offset of the window inside the document or the concatenation; 0 when padded. */
  offset: number;
}

export interface CalibrationSet {
  seqlen: number;
  /** Exactly `nsamples` sequences of exactly `seqlen` token ids each. */
  samples: Int32Array[];
  /**
   * 1 = real token, 0 = pad; present when any sample is padded. In faithful
   * mode this is what the reference attends to (`ids != padId`); in clean mode
   * every pad is 0.
   */
  attentionMask?: Uint8Array[];
  provenance: SampleProvenance[];
  padId: number;
  padding: PaddingSide;
  format: CalibrationFormat;
}

export interface CalibrationDataset {
  readonly name: string;
  readonly family: DatasetFamily;
  /** Formats this dataset can produce. */
  readonly formats: readonly CalibrationFormat[];
  /** Split used for calibration by default and the one used for evaluation. */
  readonly splits: { calibration: Split; evaluation: Split | null };
  /** Streams normalized records of a split. */
  records(split?: Split, signal?: AbortSignal): AsyncIterable<DatasetRecord>;
  /** Renders one record in a format (the spec's templates, character for character). */
  formatExample(record: DatasetRecord, format: CalibrationFormat): string;
  /** Builds a calibration set; deterministic for a given seed and input. */
  calibration(request: CalibrationRequest): Promise<CalibrationSet>;
  /** Downstream test items; throws InputError for datasets without an evaluation task. */
  evaluationItems(split?: Split, signal?: AbortSignal): AsyncIterable<EvaluationItem>;
  /**
   * Rebuilds samples from recorded provenance (record indices and offsets),
   * e.g. from an earlier calibration file or an instrumented reference run.
   * `request.nsamples` and `request.seed` are ignored. Absent for synthetic sets.
   */
  replay?(provenance: readonly SampleProvenance[], request: CalibrationRequest): Promise<CalibrationSet>;
}
