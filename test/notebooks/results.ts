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
        tableCaptions.push(m[1].replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, "&").trim());
      }
    }
  }
  return { figureTitles, tableCaptions };
}

/** What a source notebook (notebooks/<name>.ipynb) holds for its course: graded cells and code by its opening. */
export interface NotebookExercises {
  /** `[grade_id, points]` of every nbgrader cell in order; solution cells have "solution" for points. */
  graded: Array<[string, number | "solution"]>;
  /** The source of the first cell that starts with `start`; throws naming `start` when there is none. */
  source(start: string): string;
}

/** Reads the exercise cells of a source notebook, for checks that the notebook trains with the student's functions. */
export function notebookExercises(name: string): NotebookExercises {
  const file = path.join(ROOT, "notebooks", `${name}.ipynb`);
  const cells = (JSON.parse(fs.readFileSync(file, "utf8")) as {
    cells: { source: string[]; metadata: { nbgrader?: { grade_id: string; points?: number } } }[];
  }).cells;
  return {
    graded: cells.filter((c) => c.metadata.nbgrader !== undefined).map((c) => [c.metadata.nbgrader!.grade_id, c.metadata.nbgrader!.points ?? "solution"]),
    source(start) {
      const cell = cells.find((c) => c.source.join("").startsWith(start));
      if (cell === undefined) throw new Error(`notebookExercises(${name}): no cell starts with ${JSON.stringify(start)}`);
      return cell.source.join("");
    },
  };
}

/** Asserts that result `key` exceeds result `other` by more than `margin`, naming both values. */
export function assertAbove(results: Record<string, unknown>, key: string, other: string, margin: number): void {
  const a = num(results, key), b = num(results, other);
  if (!(a > b + margin)) throw new Error(`${key} ${a} vs ${other} ${b} (+${margin} required)`);
}
