/**
 * A figure as notebook output: a Jupyter MIME bundle whose `text/html` draws
 * the figure with plotly.js in any front end that runs output scripts
 * (classic Notebook, JupyterLab, VS Code, nbconvert's HTML export).
 *
 * The figure's script waits for `window.Plotly`: the library arrives either in
 * the same output (the first figure of a kernel) or in an earlier one. On a
 * page reloaded after the output that carried plotly.js was cleared, it never
 * comes; after a few seconds the figure writes a note saying how to get it
 * back and keeps checking, so it draws itself as soon as the library is run.
 */
import { randomBytes } from "node:crypto";
import type { Figure } from "./figure";
import { DEFAULT_HEIGHT } from "./figure";
import { PLOTLY_READY_EVENT, plotlyLibrary } from "./plotlyLibrary";

/** A Jupyter MIME bundle: MIME type -> content. */
export interface MimeBundle {
  "text/html": string;
  "text/plain": string;
  /** plotly's own JSON MIME type, present only with `plotlyJson: true`. */
  "application/vnd.plotly.v1+json"?: { data: unknown[]; layout: unknown; config: unknown };
}

/** Options of {@link toMimeBundle}. */
export interface MimeBundleOptions {
  /** Put plotly.js (4.5 MB) into this output. Default false. */
  includeLibrary?: boolean;
  /**
   * Also add `application/vnd.plotly.v1+json`. Default false: a front end
   * that prefers that type would skip the HTML (and the library it may carry),
   * and tslab's `display` sends a single MIME type per output anyway.
   */
  plotlyJson?: boolean;
  /** The id of the figure's `<div>`; default random, so outputs never collide. */
  elementId?: string;
  /** Seconds a figure waits for plotly.js before writing its note; default 8. */
  waitSeconds?: number;
}

/** JSON that is safe inside `<script>`: no `<` can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function titleText(fig: Figure): string | undefined {
  const t = fig.layout.title;
  return typeof t === "string" ? t : t?.text;
}

/** A one-line text summary, for front ends without HTML. */
export function figureSummary(fig: Figure): string {
  const types = [...new Set(fig.data.map((t) => t.type))].join(", ");
  const title = titleText(fig);
  return `Figure(${fig.data.length} trace${fig.data.length === 1 ? "" : "s"}: ${types || "none"}${title ? `; "${title}"` : ""})`;
}

const NO_SCRIPT_NOTE =
  "Interactive figure (plotly). If this text stays, the notebook's JavaScript did not run: " +
  "trust the notebook (File &gt; Trust Notebook) or re-run the cell.";

const MISSING_LIBRARY_NOTE =
  "<b>plotly.js is not loaded in this page</b> (the page was reloaded and the output that carried it is gone or was cleared). " +
  "Run <code>showPlotlyLibrary()</code> from ssl-workbook in any cell: this figure then draws itself. " +
  "Or restart the kernel and run all cells.";

/**
 * The HTML of one figure: a `<div>` and a `<script>` that draws into it.
 *
 * Shapes: n/a (HTML string).
 */
export function figureHtml(fig: Figure, elementId: string, waitSeconds = 8): string {
  if (!/^[A-Za-z][\w-]*$/.test(elementId)) {
    throw new Error(`figureHtml: elementId must be letters, digits, "_" or "-" starting with a letter, got ${JSON.stringify(elementId)}`);
  }
  const height = typeof fig.layout.height === "number" ? fig.layout.height : DEFAULT_HEIGHT;
  const width = typeof fig.layout.width === "number" ? `${fig.layout.width}px` : "100%";
  const polls = Math.max(1, Math.round((waitSeconds * 1000) / 50));
  const script = `(function () {
  var id = ${scriptJson(elementId)};
  var fig = ${scriptJson({ data: fig.data, layout: fig.layout, config: fig.config })};
  function plotly() { var P = window.Plotly; return P && typeof P.newPlot === "function" ? P : null; }
  function attempt() {
    var el = document.getElementById(id);
    if (!el) return false;
    if (el.getAttribute("data-drawn") === "1") return true;
    var P = plotly();
    if (!P) return false;
    el.setAttribute("data-drawn", "1");
    el.innerHTML = "";
    P.newPlot(el, fig.data, fig.layout, fig.config);
    return true;
  }
  if (attempt()) return;
  var polls = 0, slow = null;
  function noteAndWait() {
    var el = document.getElementById(id);
    if (!el) return;
    el.innerHTML = '<div style="font:13px sans-serif;color:#8a4b00;background:#fff6e5;border:1px solid #f0c27b;padding:8px 10px;border-radius:4px">' + ${scriptJson(MISSING_LIBRARY_NOTE)} + '</div>';
    window.addEventListener(${scriptJson(PLOTLY_READY_EVENT)}, attempt);
    slow = setInterval(function () { if (attempt() || !document.getElementById(id)) clearInterval(slow); }, 1000);
  }
  var fast = setInterval(function () {
    polls++;
    if (attempt()) { clearInterval(fast); return; }
    if (polls >= ${polls}) { clearInterval(fast); noteAndWait(); }
  }, 50);
})();`;
  return [
    `<div id="${elementId}" class="ssl-workbook-figure" style="width:${width};height:${height}px;">`,
    `<div style="font:12px sans-serif;color:#888;padding:8px">${NO_SCRIPT_NOTE}</div>`,
    `</div>`,
    `<script type="text/javascript">`,
    script,
    `</script>`,
  ].join("\n");
}

/**
 * A figure as a Jupyter MIME bundle. Pure: the same figure and options give
 * the same bundle (pass `elementId` to fix the otherwise random element id).
 *
 * `text/html` holds the figure's `<div>` and drawing script, preceded by
 * plotly.js itself when `includeLibrary` is true; `text/plain` a summary.
 *
 * @example
 * const bundle = toMimeBundle(lineChart([3, 2, 1]), { includeLibrary: true });
 * fs.writeFileSync("fig.html", bundle["text/html"]);
 */
export function toMimeBundle(fig: Figure, options: MimeBundleOptions = {}): MimeBundle {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== "object" || fig.layout === null) {
    throw new Error(`toMimeBundle: fig must be a Figure { data: Trace[], layout, config }, got ${JSON.stringify(fig)?.slice(0, 80)}`);
  }
  const waitSeconds = options.waitSeconds ?? 8;
  if (!(waitSeconds > 0)) throw new Error(`toMimeBundle: waitSeconds must be > 0, got ${waitSeconds}`);
  const elementId = options.elementId ?? `ssl-fig-${randomBytes(6).toString("hex")}`;
  const parts = options.includeLibrary ? [plotlyLibrary().scriptHtml] : [];
  parts.push(figureHtml(fig, elementId, waitSeconds));
  const bundle: MimeBundle = { "text/html": parts.join("\n"), "text/plain": figureSummary(fig) };
  if (options.plotlyJson) {
    bundle["application/vnd.plotly.v1+json"] = JSON.parse(JSON.stringify({ data: fig.data, layout: fig.layout, config: fig.config }));
  }
  return bundle;
}
