/**
 * Pooled features of a frozen ONNX description encoder, computed once per
 * problem and kept by problem id, so training epochs, validation and
 * generation never run the encoder twice on the same description.
 */
import { getLogger } from '@sculpt/core';
import type { DescriptionPooling } from './config.js';
import type { PreparedProblem } from './features.js';
import { poolDescriptionFeatures, type OnnxDescriptionEncoder } from './onnx-description.js';

const log = getLogger('chaincoder:description-features');

export class DescriptionFeatureCache {
  readonly #features = new Map<string, Float32Array>();

  constructor(
    readonly encoder: OnnxDescriptionEncoder,
    readonly pooling: DescriptionPooling,
  ) {}

  /** Problems whose features are cached. */
  get size(): number {
    return this.#features.size;
  }

  /**
   * Sets `descriptionFeatures` ([vectors, hidden]) on every problem, running
   * the encoder only for ids not seen before. Each description is encoded
   * alone, with no padding from other descriptions, so a problem gets the
   * same features in training, on resume and in generation.
   */
  async attach(problems: PreparedProblem[]): Promise<void> {
    let computed = 0;
    for (const problem of problems) {
      let features = this.#features.get(problem.id);
      if (features === undefined) {
        features = poolDescriptionFeatures(await this.encoder.encode([problem.description]), this.pooling);
        this.#features.set(problem.id, features);
        computed++;
      }
      problem.descriptionFeatures = features;
    }
    if (computed > 0) log.info(() => `Encoded ${computed} descriptions with the ONNX description encoder (${this.#features.size} cached)`);
  }
}
