/**
 * Figures drawn for real: the outputs of two figures, as a notebook embeds
 * them, loaded in headless Chromium. Skipped (with the reason) when no
 * Chromium is installed; Debian: `apt-get install chromium`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tf } from "../../src/backend/tf";
import { barChart, imageGrid, lineChart, scatter2d } from "../../src/plot";
import { toMimeBundle } from "../../src/plot/mimeBundle";
import { forgetPlotlyLibrary, show } from "../../src/plot/show";

function findChromium(): string | null {
  const names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  const candidates = [process.env.CHROME_BIN ?? "", ...(process.env.PATH ?? "").split(path.delimiter).flatMap((d) => names.map((n) => path.join(d, n)))];
  return candidates.find((file) => file !== "" && fs.existsSync(file)) ?? null;
}

/** The page's DOM after its scripts ran for `budgetMs` of virtual time. */
function renderDom(chromium: string, html: string, budgetMs: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plot-render-"));
  try {
    const file = path.join(dir, "page.html");
    fs.writeFileSync(file, html);
    return execFileSync(
      chromium,
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", `--user-data-dir=${path.join(dir, "profile")}`, "--window-size=1200,900",
        `--virtual-time-budget=${budgetMs}`, "--dump-dom", `file://${file}`,
      ],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The markup of the element with `id` up to the next figure, scripts removed. */
function figureDom(dom: string, id: string): string {
  const markup = dom.replace(/<script[\s\S]*?<\/script>/g, "");
  const start = markup.indexOf(`id="${id}"`);
  assert.ok(start >= 0, `element ${id} in the DOM`);
  const own = markup.indexOf('class="ssl-workbook-figure', start);
  const next = markup.indexOf('class="ssl-workbook-figure', own + 1);
  return markup.slice(start, next < 0 ? undefined : next);
}

/** Asserts `pattern` is (or with `expected` false, is not) in `text`, without printing megabytes on failure. */
function contains(text: string, pattern: RegExp, message: string, expected = true): void {
  assert.equal(pattern.test(text), expected, `${message}: ${pattern} ${expected ? "not found" : "found"} in ${text.slice(0, 300)}...`);
}

// A stand-in AMD loader (as require.js in classic Notebook): plotly must not register with it.
const AMD_PAGE_HEAD = `<script>window.amdCalls = 0; window.define = function () { window.amdCalls++; }; window.define.amd = {};</script>`;
const REPORT = `<div id="report"></div><script>setTimeout(function () {
  document.getElementById("report").textContent = "amdCalls=" + window.amdCalls + " plotly=" + (window.Plotly && window.Plotly.version) + " defineKept=" + (typeof window.define === "function" && !!window.define.amd);
}, 200);</script>`;

const chromium = findChromium();
// CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
const skip = chromium || process.env.CI ? false : "no Chromium found (set CHROME_BIN)";

test("two figures as a notebook embeds them render in Chromium, beside an AMD loader", { skip }, async () => {
  await tf.setBackend("cpu");
  forgetPlotlyLibrary();
  const outputs: string[] = [];
  const display = { html: (s: string) => outputs.push(s) };
  const points = tf.tensor2d([[0, 0], [1, 1], [2, 0], [3, 1]]);
  show(lineChart([{ name: "a", y: [3, 2, 1] }, { name: "b", y: [1, 2, 3] }], { title: "first" }), { display });
  show(scatter2d(points, { labels: [0, 1, 0, 2] }), { display });
  show(imageGrid(new Float32Array(8).fill(0.5), { shape: [2, 2, 2, 1] }), { display });
  points.dispose();
  const ids = outputs.map((html) => /<div id="([^"]+)" class="ssl-workbook-figure"/.exec(html)![1]);
  const page = `<!DOCTYPE html><html><head><meta charset="utf-8">${AMD_PAGE_HEAD}</head><body>${outputs.map((o) => `<div class="output">${o}</div>`).join("\n")}${REPORT}</body></html>`;
  assert.ok(chromium, "no Chromium found (set CHROME_BIN)");
  const dom = renderDom(chromium, page, 3000);
  contains(dom, /amdCalls=0 plotly=2\.35\.3 defineKept=true/, "report");
  const [line, scatter, grid] = ids.map((id) => figureDom(dom, id));
  for (const [name, fig] of [["line", line], ["scatter", scatter], ["grid", grid]] as const) {
    contains(fig, /data-drawn="1"/, `${name} drawn`);
    contains(fig, /class="main-svg"/, `${name} has plotly's svg`);
    contains(fig, /is not loaded in this page|did not run/, `${name} shows no note`, false);
  }
  assert.equal((line.match(/class="trace scatter/g) ?? []).length, 2, "two line traces");
  assert.equal((scatter.match(/class="point"/g) ?? []).length, 4, "four scatter points");
  contains(grid, /<image [^>]*href="data:image\/png;base64,/, "the grid PNG is drawn");
});

test("a figure whose library is missing writes its note, then draws once plotly.js arrives", { skip }, () => {
  const late = toMimeBundle(barChart(["a", "b"], [1, 2]), { elementId: "late", waitSeconds: 0.5 })["text/html"];
  const missing = toMimeBundle(barChart(["a", "b"], [1, 2]), { elementId: "missing", waitSeconds: 0.5 })["text/html"];
  // The library output, as showPlotlyLibrary() sends it, added to the page after 2 s.
  const library = toMimeBundle(barChart(["x"], [1]), { includeLibrary: true, elementId: "carrier" })["text/html"];
  const addLater = `<script>setTimeout(function () {
    var holder = document.createElement("div"); document.body.appendChild(holder);
    var tmp = document.createElement("div"); tmp.innerHTML = ${JSON.stringify(library).replace(/</g, "\\u003c")};
    Array.prototype.forEach.call(tmp.childNodes, function (node) {
      if (node.tagName === "SCRIPT") { var s = document.createElement("script"); s.text = node.text; holder.appendChild(s); }
      else holder.appendChild(node.cloneNode(true));
    });
  }, 2000);</script>`;
  assert.ok(chromium, "no Chromium found (set CHROME_BIN)");
  const before = renderDom(chromium, `<!DOCTYPE html><html><body>${missing}</body></html>`, 1500);
  contains(figureDom(before, "missing"), /plotly\.js is not loaded in this page<\/b>.*showPlotlyLibrary\(\)/, "note");
  const after = renderDom(chromium!, `<!DOCTYPE html><html><body>${late}${addLater}</body></html>`, 5000);
  contains(figureDom(after, "late"), /data-drawn="1"/, "drawn");
  contains(figureDom(after, "late"), /class="main-svg"/, "svg");
  contains(figureDom(after, "late"), /is not loaded in this page/, "note gone", false);
});
