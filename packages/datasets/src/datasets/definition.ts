/**
 * Declarations of the built-in datasets: the location of their files, the
 * normalization of raw records, and the rendering of fields as calibration text.
 * `DatasetInstance` turns a definition into a `CalibrationDataset`.
 */
import type { ReadOptions } from '../io/read-records.js';
import type { LocalLayout } from '../sources/local.js';
import type { HubFile } from '../sources/hub.js';
import type { CalibrationFormat, DatasetFamily, Split } from '../types.js';
import type { RecordLocation } from './fields.js';

export type Fields = Record<string, unknown>;

/** Rationales kept outside the dataset, joined to records by a key. */
export interface ExternalRationales {
  /** Folder under the data directory with `<x>_<split>.json` records and `<split>_CoT*.json` rationale lists. */
  folder: string;
  /** Join key of a normalized record. */
  keyOf(fields: Fields): string | undefined;
  /** Join key of a record of the rationale folder's own data file (aligned by position with the rationale list). */
  keyOfRationaleRecord(raw: Record<string, unknown>): string | undefined;
}

export interface DownstreamTemplates {
  /** The question prompt, ending where the answer starts (e.g. `Question: ...\nAnswer: `). */
  prompt(fields: Fields): string;
  /** The gold answer text placed after the prompt. */
  answer(fields: Fields): string;
  /** The record's own rationale, when the dataset carries one. */
  rationale?(fields: Fields): string | undefined;
  /** Text between the rationale and "So the answer is": GSM8K's reference uses ". ", the others " ". */
  cotSeparator?: string;
  choices?(fields: Fields): string[];
  id(fields: Fields, index: number): string;
}

export interface DatasetDefinition {
  name: string;
  description: string;
  family: Exclude<DatasetFamily, 'synthetic'>;
  layout: LocalLayout;
  /** Reader options for every file, or per file when the layouts differ (RACE's JSON ".txt" files beside hub Parquet). */
  read?: Omit<ReadOptions, 'signal'> | ((file: string) => Omit<ReadOptions, 'signal'>);
  /** Reads one raw record into zero or more normalized records (a RACE passage contains several questions). */
  normalize(raw: unknown, location: RecordLocation): Fields[];
  /**
   * Hub fallback: repository, revision and files per split.
   * NOTE: only the c4 and anli revisions come from the reference. The other paths follow each
   * repository's layout or the dataset viewer's Parquet conversion. None was checked against
   * the live hub, because tests use a loopback stand-in.
   */
  hub?: { repo: string; revision: string; files: Partial<Record<Split, string[]>> };
  splits: { calibration: Split; evaluation: Split | null };
  formats: readonly CalibrationFormat[];
  /** Pre-training corpora: the document text. */
  text?(fields: Fields): string;
  /** Keep only the first N records of a split, as the reference's `train[:5000]` slices do. */
  maxRecords?: number;
  /** Join every document of the split into one with this separator (WikiText-2 joins with " "). */
  joinDocuments?: string;
  templates?: DownstreamTemplates;
  externalRationales?: ExternalRationales;
}

/** Format lists shared by several datasets. */
export const PRETRAINING_FORMATS: readonly CalibrationFormat[] = ['window'];
