/**
 * `npm run build:html`: renders the executed notebooks in build/notebooks/
 * (run `npm run test:notebooks` first) to a static HTML workbook in
 * build/html/, with an index page. Figures carry plotly.js inside the page,
 * so the workbook works offline.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findJupyter, JUPYTER_MISSING_HELP, REPO_ROOT } from "../kernel/jupyter";

function title(notebookFile: string): string {
  const nb = JSON.parse(fs.readFileSync(notebookFile, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
  const first = nb.cells.find((c) => c.cell_type === "markdown");
  const text = first ? (Array.isArray(first.source) ? first.source.join("") : first.source) : "";
  const heading = text.split("\n").find((l) => l.startsWith("# "));
  return heading ? heading.slice(2).trim() : path.basename(notebookFile, ".ipynb");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function main(): void {
  const jupyter = findJupyter();
  if (!jupyter) {
    console.error(JUPYTER_MISSING_HELP);
    process.exit(1);
  }
  const executedDir = path.join(REPO_ROOT, "build", "notebooks");
  const htmlDir = path.join(REPO_ROOT, "build", "html");
  const executed = fs.existsSync(executedDir) ? fs.readdirSync(executedDir).filter((f) => f.endsWith(".ipynb")).sort() : [];
  if (executed.length === 0) {
    console.error("build:html: no executed notebooks in build/notebooks/; run `npm run test:notebooks` first");
    process.exit(1);
  }
  fs.mkdirSync(htmlDir, { recursive: true });
  const entries: string[] = [];
  for (const file of executed) {
    const source = path.join(executedDir, file);
    const run = spawnSync(jupyter, ["nbconvert", "--to", "html", "--output-dir", htmlDir, source], { encoding: "utf8" });
    if (run.status !== 0) {
      console.error(`build:html: nbconvert failed on ${file}:\n${run.stderr}`);
      process.exit(1);
    }
    const page = file.replace(/\.ipynb$/, ".html");
    entries.push(`<li><a href="${page}">${escapeHtml(title(source))}</a></li>`);
    console.log(`✓ ${path.relative(REPO_ROOT, path.join(htmlDir, page))}`);
  }
  const index = `<!doctype html><html><head><meta charset="utf-8"><title>Self-supervised learning workbook</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;line-height:1.5}</style></head>
<body><h1>Self-supervised learning workbook</h1><p>Executed notebooks, rendered offline.</p><ol>
${entries.join("\n")}
</ol></body></html>\n`;
  fs.writeFileSync(path.join(htmlDir, "index.html"), index);
  console.log(`✓ ${path.relative(REPO_ROOT, path.join(htmlDir, "index.html"))}`);
}

main();
