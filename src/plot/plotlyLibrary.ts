/**
 * plotly.js, carried inside the notebook.
 *
 * Notebooks here have no internet, so no CDN: the minified bundle of the
 * installed `plotly.js-dist-min` goes into one output of the notebook (the
 * first figure a kernel shows) and defines `window.Plotly` for the page; every
 * later figure only references it. The bundle is UMD: where the page has an
 * AMD loader (classic Notebook loads require.js) it would register an AMD
 * module instead of `window.Plotly`, so it runs inside a function whose local
 * `define`, `module` and `exports` are undefined, without touching the page's
 * own loader.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** What {@link plotlyLibrary} returns: the bundle's version and an HTML `<script>`. */
export interface PlotlyLibrary {
  /** plotly.js version, e.g. `"2.35.3"`. */
  version: string;
  /** A `<script>` element that defines `window.Plotly` unless the page has it already. */
  scriptHtml: string;
}

/** Name of the page event the library script fires once `window.Plotly` exists. */
export const PLOTLY_READY_EVENT = "ssl-workbook:plotly-ready";

let cached: PlotlyLibrary | undefined;

/**
 * Reads the installed plotly.js bundle (4.5 MB, read once per process) and
 * wraps it in a `<script>` safe to embed in notebook HTML.
 *
 * @example
 * const { version, scriptHtml } = plotlyLibrary(); // "2.35.3", "<script ..."
 */
export function plotlyLibrary(): PlotlyLibrary {
  if (cached) return cached;
  let bundlePath: string;
  try {
    bundlePath = require.resolve("plotly.js-dist-min");
  } catch (e) {
    throw new Error(`plotlyLibrary: package plotly.js-dist-min is not installed (${(e as Error).message}); run npm install`);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(bundlePath), "package.json"), "utf8")) as { version: string };
  // Inside <script>, "</script" would end the element and "<!--" can change how
  // the HTML parser finds the end; "\/" and "\!" mean the same characters in JS
  // strings, regexes and comments, so escaping them changes nothing else.
  const source = fs.readFileSync(bundlePath, "utf8").replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
  const scriptHtml = [
    `<script type="text/javascript">`,
    `/* plotly.js ${pkg.version} (MIT licence, Plotly, Inc.), carried in this notebook by ssl-workbook so that figures render offline. */`,
    `if (typeof window.Plotly === "undefined") {`,
    // Plotly typesets LaTeX with the page's MathJax; "local" keeps it from
    // reconfiguring the notebook's own MathJax (as plotly.py does).
    `window.PlotlyConfig = window.PlotlyConfig || { MathJaxConfig: "local" };`,
    `(function () { var define = undefined, module = undefined, exports = undefined;`,
    source,
    `}).call(window);`,
    `}`,
    `try { window.dispatchEvent(new Event(${JSON.stringify(PLOTLY_READY_EVENT)})); } catch (e) {}`,
    `</script>`,
  ].join("\n");
  cached = { version: pkg.version, scriptHtml };
  return cached;
}
