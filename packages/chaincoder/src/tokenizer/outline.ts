/**
 * Outline strategies: how S1 (outline) and S2 (core-algorithm hint) are
 * chosen from the S3/S4 pairs. The strategy name and parameters are recorded
 * with every encoded program.
 */
import { UsageError } from '@sculpt/core';
import type { FrameProvenance } from './frame.js';

export type OutlineSpec =
  /** Pair 0 and every pair i with (i+1) % k == 0; k = 500 is the reference rule. */
  | { strategy: 'stride'; k: number }
  /** First frame token of each top-level statement; content of the largest loop body, at most maxS2 tokens. */
  | { strategy: 'ast'; maxS2: number }
  /** Empty S1 and S2 (the "outline off" ablation). */
  | { strategy: 'none' };

export interface Outline {
  s1: string[];
  s2: string[];
}

export const DEFAULT_AST_MAX_S2 = 32;

/** Parses `stride:500`, `stride`, `ast`, `ast:64` or `none`. */
export function parseOutlineSpec(text: string): OutlineSpec {
  const [name, parameter] = text.split(':', 2);
  const number = parameter === undefined ? undefined : Number(parameter);
  if (number !== undefined && (!Number.isInteger(number) || number < 1)) {
    throw new UsageError(`invalid outline parameter in '${text}': expected a positive integer after ':'`);
  }
  if (name === 'stride') return { strategy: 'stride', k: number ?? 500 };
  if (name === 'ast') return { strategy: 'ast', maxS2: number ?? DEFAULT_AST_MAX_S2 };
  if (name === 'none' && number === undefined) return { strategy: 'none' };
  throw new UsageError(`unknown outline strategy '${text}'; use stride:K, ast[:MAX_S2] or none`);
}

export function formatOutlineSpec(spec: OutlineSpec): string {
  if (spec.strategy === 'stride') return `stride:${spec.k}`;
  if (spec.strategy === 'ast') return `ast:${spec.maxS2}`;
  return 'none';
}

export function computeOutline(spec: OutlineSpec, s3: readonly string[], s4: readonly string[], provenance: FrameProvenance): Outline {
  switch (spec.strategy) {
    case 'none':
      return { s1: [], s2: [] };
    case 'stride': {
      const picked = s3.map((_, i) => i).filter((i) => i === 0 || (i + 1) % spec.k === 0);
      return { s1: picked.map((i) => s3[i]), s2: picked.map((i) => s4[i]) };
    }
    case 'ast': {
      // A statement without leaves shares its first pair with the next statement; keep each pair once.
      const starts = [...new Set(provenance.statementStarts)];
      const s1 = starts.map((i) => s3[Math.min(i, s3.length - 1)]);
      let best: { start: number; end: number } | null = null;
      for (const body of provenance.loopBodies) {
        if (best === null || body.end - body.start > best.end - best.start) best = body;
      }
      const s2 = best === null ? [] : s4.slice(best.start, Math.min(best.end, best.start + spec.maxS2));
      return { s1, s2 };
    }
  }
}
