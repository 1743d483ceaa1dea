/**
 * Renders vega-lite specifications to SVG (vega's headless `View.toSVG`) and
 * PNG (resvg). No chart is drawn by hand.
 */
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '@sculpt/core';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface RenderedChart {
  svg: string;
  png: string;
}

/** Writes `<base>.svg` and `<base>.png`; the PNG is rendered at twice the SVG's size. */
export async function renderChart(spec: TopLevelSpec, base: string): Promise<RenderedChart> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();

  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();

  await writeFileAtomic(`${base}.svg`, svg);
  await writeFileAtomic(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}
