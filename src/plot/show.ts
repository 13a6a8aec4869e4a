/**
 * Showing figures in the notebook, and writing them to a standalone page.
 *
 * A kernel process sends plotly.js to the notebook once, with the first figure
 * it shows; whether it has is the one piece of state this folder keeps
 * (it mirrors what the notebook page holds, which lives as long as the kernel).
 */
import { tslabKernel, type HtmlDisplay } from "../notebook/kernel";
import type { Figure } from "./figure";
import { escapeHtml } from "./html";
import { figureSummary, toMimeBundle } from "./mimeBundle";
import { plotlyLibrary } from "./plotlyLibrary";

export type { HtmlDisplay };

let librarySent = false;

/**
 * tslab's `display` when this code runs inside a tslab kernel, else null.
 *
 * @example
 * const display = kernelDisplay();
 * if (display) display.html("<b>hello</b>");
 */
export function kernelDisplay(): HtmlDisplay | null {
  return tslabKernel()?.display ?? null;
}

/** Whether this process has already sent plotly.js to the notebook. */
export function plotlyLibrarySent(): boolean {
  return librarySent;
}

/**
 * Makes the next {@link show} carry plotly.js again, e.g. after clearing all
 * outputs of the notebook.
 */
export function forgetPlotlyLibrary(): void {
  librarySent = false;
}

/** Options of {@link show}. */
export interface ShowOptions {
  /** Where to send the HTML; default tslab's display when inside the kernel. */
  display?: HtmlDisplay;
}

/**
 * Shows a figure in the notebook.
 *
 * The first figure of a kernel process carries plotly.js (4.5 MB, offline);
 * later ones reference it. Returns nothing, so the cell does not also print a
 * value (tslab prints a cell's last value). Outside a kernel (a script) it
 * prints a one-line note; use {@link toMimeBundle} or {@link htmlPage} there.
 *
 * @example
 * show(lineChart({ name: "loss", y: losses }, { xTitle: "step" }));
 */
export function show(fig: Figure, options: ShowOptions = {}): void {
  const display = options.display ?? kernelDisplay();
  if (!display) {
    toMimeBundle(fig); // validates the figure as in a notebook
    console.log(`show: not inside a tslab kernel, nothing displayed (${figureSummary(fig)}); htmlPage([fig]) makes a standalone page.`);
    return;
  }
  const bundle = toMimeBundle(fig, { includeLibrary: !librarySent });
  display.html(bundle["text/html"]);
  librarySent = true;
}

/**
 * Sends plotly.js to the notebook page on its own (with a one-line note), so
 * that figures whose library went missing (page reloaded after their output
 * was cleared) draw themselves.
 *
 * @example
 * showPlotlyLibrary();
 */
export function showPlotlyLibrary(options: ShowOptions = {}): void {
  const display = options.display ?? kernelDisplay();
  if (!display) {
    throw new Error("showPlotlyLibrary: not inside a tslab kernel and no options.display given");
  }
  const { version, scriptHtml } = plotlyLibrary();
  display.html(`${scriptHtml}\n<div style="font:12px sans-serif;color:#888">plotly.js ${escapeHtml(version)} loaded into this page.</div>`);
  librarySent = true;
}

/** Options of {@link htmlPage}. */
export interface HtmlPageOptions {
  /** The page's `<title>` and heading. */
  title?: string;
}

/**
 * A standalone HTML page (offline: plotly.js inline, once) holding figures
 * and HTML fragments (e.g. {@link tableHtml}) in order.
 *
 * @example
 * fs.writeFileSync("report.html", htmlPage([lossFig, tableHtml(rows)], { title: "Run 3" }));
 */
export function htmlPage(parts: readonly (Figure | string)[], options: HtmlPageOptions = {}): string {
  if (!Array.isArray(parts)) throw new Error(`htmlPage: parts must be an array of figures or HTML strings, got ${typeof parts}`);
  const body = parts.map((part, i) => {
    if (typeof part === "string") return part;
    if (part && Array.isArray((part as Figure).data)) return toMimeBundle(part, { elementId: `figure-${i}` })["text/html"];
    throw new Error(`htmlPage: parts[${i}] must be a Figure or an HTML string, got ${JSON.stringify(part)?.slice(0, 80)}`);
  });
  const title = options.title === undefined ? "" : escapeHtml(options.title);
  return [
    "<!DOCTYPE html>",
    `<html><head><meta charset="utf-8"><title>${title || "figures"}</title></head>`,
    `<body style="font-family:system-ui,sans-serif;margin:24px;max-width:1100px">`,
    title ? `<h1 style="font-size:20px">${title}</h1>` : "",
    plotlyLibrary().scriptHtml,
    ...body.map((html) => `<section style="margin:16px 0">\n${html}\n</section>`),
    "</body></html>",
  ].join("\n");
}
