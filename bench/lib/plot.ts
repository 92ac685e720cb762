// Renders benchmark charts to SVG with Vega-Lite (headless, no browser).
import { writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export interface Series {
  series: string;
  x: number;
  y: number;
}

/** A line chart of y against x, one line per series; written to `file`. */
export async function lineChart(file: string, title: string, xTitle: string, yTitle: string, points: Series[], logX = false): Promise<void> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 480,
    height: 280,
    background: "white",
    data: { values: points },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle, scale: logX ? { type: "log", base: 2 } : {} },
      y: { field: "y", type: "quantitative", title: yTitle },
      color: { field: "series", type: "nominal", title: null },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}
