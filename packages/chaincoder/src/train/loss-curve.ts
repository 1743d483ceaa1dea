/**
 * Loss curves: a vega line chart of the training and validation losses,
 * rendered headless with `View.toSVG()`. The specification is written in vega
 * directly because vega-lite is installed for @sculpt/pruners only.
 */
import { writeFileAtomic } from '@sculpt/core';
import * as vega from 'vega';

export interface LossPoint {
  step: number;
  loss: number;
  series: string;
}

/** Builds the vega specification: one line per series, loss over optimizer steps. */
export function lossCurveSpec(points: readonly LossPoint[], title: string): vega.Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: 480,
    height: 280,
    padding: 8,
    title: { text: title },
    data: [{ name: 'points', values: points.map((point) => ({ ...point })) }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'step' }, range: 'width', nice: true },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'loss' }, range: 'height', nice: true, zero: false },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'optimizer step' },
      { orient: 'left', scale: 'y', title: 'cross-entropy (nats per token)' },
    ],
    legends: [{ fill: 'color', title: 'series' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'series' },
            sort: { field: 'datum.step' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'step' },
                y: { scale: 'y', field: 'loss' },
                stroke: { scale: 'color', field: 'series' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'step' },
                y: { scale: 'y', field: 'loss' },
                fill: { scale: 'color', field: 'series' },
                size: { value: 16 },
              },
            },
          },
        ],
      },
    ],
  };
}

/** Renders the loss curve to an SVG file and returns the SVG text. */
export async function writeLossCurve(file: string, points: readonly LossPoint[], title: string): Promise<string> {
  const view = new vega.View(vega.parse(lossCurveSpec(points, title)), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    await writeFileAtomic(file, svg);
    return svg;
  } finally {
    view.finalize();
  }
}
