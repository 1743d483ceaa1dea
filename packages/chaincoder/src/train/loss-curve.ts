/**
 * Loss curves: a vega-lite line chart of the training and validation losses,
 * compiled to vega and rendered headless with `View.toSVG()`.
 */
import { writeFileAtomic } from '@sculpt/core';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LossPoint {
  step: number;
  loss: number;
  series: string;
}

/** Builds the vega-lite specification: one line per series, loss over optimizer steps. */
export function lossCurveSpec(points: readonly LossPoint[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 280,
    data: { values: points.map((point) => ({ ...point })) },
    mark: { type: 'line', point: points.length < 60 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy (nats per token)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Renders the loss curve to an SVG file and returns the SVG text. */
export async function writeLossCurve(file: string, points: readonly LossPoint[], title: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(lossCurveSpec(points, title)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    await writeFileAtomic(file, svg);
    return svg;
  } finally {
    view.finalize();
  }
}
