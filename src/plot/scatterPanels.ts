/**
 * Several 2-D scatter plots side by side in one figure, sharing a colour and
 * a legend entry per class: before/after pictures of an embedding, or one
 * data set under several projections (PCA, MDS, LLE).
 */
import { COLORWAY, figure, type Figure, type Trace } from "./figure";
import { scatter2d } from "./scatter2d";
import type { PlotLabels, PlotValues } from "./values";
import { checkPositiveInteger } from "../validation/arguments";

/** One panel of {@link scatterPanels}. */
export interface ScatterPanel {
  /** `[n, 2]` points (as {@link scatter2d} takes them). */
  points: PlotValues;
  /** `[n]` class of each point. */
  labels?: PlotLabels;
  /** Title above the panel. */
  title?: string;
}

/** Options of {@link scatterPanels}. */
export interface ScatterPanelsOptions {
  /** Title of the whole figure. */
  title?: string;
  /** Panels per row; default all in one row (at most 4). */
  columns?: number;
  /** Names of integer class ids. */
  classNames?: readonly string[];
  /** Same scale on both axes of each panel; default true. */
  equalAxes?: boolean;
  /** Marker diameter in pixels; default 6. */
  markerSize?: number;
  /** Height of one row of panels in pixels; default 320. */
  rowHeight?: number;
}

/**
 * Scatter plots in a grid, one per panel; class `c` has the same colour in
 * every panel, and one legend entry toggles it everywhere.
 *
 * Shapes: each panel's `points` `[n_i, 2]`, `labels` `[n_i]`.
 *
 * @example
 * show(scatterPanels([
 *   { points: before, labels, title: "before" },
 *   { points: after, labels, title: "after 200 steps" },
 * ], { title: "Triplet loss on 2-D points" }));
 */
export function scatterPanels(panels: readonly ScatterPanel[], options: ScatterPanelsOptions = {}): Figure {
  if (!Array.isArray(panels) || panels.length === 0) {
    throw new Error(`scatterPanels: panels must be a non-empty array, got ${Array.isArray(panels) ? "[]" : typeof panels}`);
  }
  const columns = options.columns ?? Math.min(panels.length, 4);
  checkPositiveInteger("scatterPanels", "options.columns", columns);
  const rows = Math.ceil(panels.length / columns);
  const traces: Trace[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const colourOf = new Map<string, string>();
  const legendShown = new Set<string>();
  const gap = 0.06;
  panels.forEach((panel, p) => {
    const panelFigure = scatter2d(panel.points, {
      labels: panel.labels,
      classNames: options.classNames,
      markerSize: options.markerSize,
    });
    const axis = p === 0 ? "" : String(p + 1);
    const row = Math.floor(p / columns);
    const col = p % columns;
    const x0 = col / columns + (col > 0 ? gap / 2 : 0);
    const x1 = (col + 1) / columns - (col < columns - 1 ? gap / 2 : 0);
    const y1 = 1 - row / rows - (row > 0 ? gap : 0);
    const y0 = 1 - (row + 1) / rows + (row < rows - 1 ? gap : 0);
    layout[`xaxis${axis}`] = { domain: [x0, x1], anchor: `y${axis}`, zeroline: false };
    layout[`yaxis${axis}`] = {
      domain: [y0, y1 - 0.07 / rows],
      anchor: `x${axis}`,
      zeroline: false,
      ...((options.equalAxes ?? true) ? { scaleanchor: `x${axis}`, scaleratio: 1 } : {}),
    };
    if (panel.title) {
      annotations.push({
        text: panel.title, showarrow: false, xref: "paper", yref: "paper",
        x: (x0 + x1) / 2, y: y1, xanchor: "center", yanchor: "top", font: { size: 13 },
      });
    }
    for (const trace of panelFigure.data) {
      const name = String(trace.name);
      if (!colourOf.has(name)) colourOf.set(name, COLORWAY[colourOf.size % COLORWAY.length]);
      const marker = { ...(trace.marker as Record<string, unknown>), color: colourOf.get(name) };
      traces.push({
        ...trace, marker, xaxis: `x${axis}`, yaxis: `y${axis}`,
        legendgroup: name, showlegend: panel.labels !== undefined && !legendShown.has(name),
      });
      legendShown.add(name);
    }
  });
  return figure(traces, {
    title: options.title,
    height: (options.rowHeight ?? 320) * rows + 80,
    showlegend: panels.some((p) => p.labels !== undefined),
    legend: { title: { text: "class" }, itemsizing: "constant" },
    hovermode: "closest",
    annotations,
    ...layout,
  });
}
