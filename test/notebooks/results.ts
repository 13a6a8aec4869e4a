/**
 * Reads the numbers an executed notebook recorded (build/results/<name>.json,
 * written by `notebook.recordResults` under the notebook harness).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

export function notebookResults(name: string): Record<string, unknown> {
  const file = path.join(ROOT, "build", "results", `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`notebookResults: ${file} is missing; run \`node dist/scripts/run-notebooks.js ${name}\` first`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** A recorded number, or a failure naming the key. */
export function num(results: Record<string, unknown>, key: string): number {
  const v = results[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`notebook result ${key} must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** What an executed notebook (build/notebooks/<name>.ipynb) shows: figure titles and table captions. */
export interface NotebookDisplays {
  /** Every title in a plotly figure's JSON (figure and axis titles), in output order. */
  figureTitles: string[];
  /** The caption of every table. */
  tableCaptions: string[];
}

/** Reads the figures and tables an executed notebook displayed. */
export function notebookDisplays(name: string): NotebookDisplays {
  const file = path.join(ROOT, "build", "notebooks", `${name}.ipynb`);
  if (!fs.existsSync(file)) {
    throw new Error(`notebookDisplays: ${file} is missing; run \`node dist/scripts/run-notebooks.js ${name}\` first`);
  }
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as {
    cells: { outputs?: { data?: Record<string, string | string[]> }[] }[];
  };
  const figureTitles: string[] = [];
  const tableCaptions: string[] = [];
  for (const cell of nb.cells) {
    for (const output of cell.outputs ?? []) {
      const html = output.data?.["text/html"];
      if (html === undefined) continue;
      const text = Array.isArray(html) ? html.join("") : html;
      for (const m of text.matchAll(/"title":\{"text":"((?:[^"\\]|\\.)*)"/g)) {
        figureTitles.push(JSON.parse(`"${m[1]}"`) as string);
      }
      for (const m of text.matchAll(/<div class="ssl-workbook-caption"[^>]*>([\s\S]*?)<\/div>/g)) {
        tableCaptions.push(m[1].replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").trim());
      }
    }
  }
  return { figureTitles, tableCaptions };
}
