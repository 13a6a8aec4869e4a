import { test } from "node:test";
import assert from "node:assert/strict";
import { cellNames, cellsNeededForGrading } from "../../course/dependencies";
import type { Notebook, NotebookCell } from "../../course/notebook";

const code = (source: string, nbgrader?: NotebookCell["metadata"]["nbgrader"]): NotebookCell => ({
  cell_type: "code",
  metadata: nbgrader ? { nbgrader } : {},
  source,
  outputs: [],
  execution_count: null,
});
const markdown = (source: string): NotebookCell => ({ cell_type: "markdown", metadata: {}, source });
const notebook = (cells: NotebookCell[]): Notebook => ({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });
const sorted = (s: Set<string> | Set<number>) => [...s].sort();

test("cellNames reads top-level declarations, destructuring and imports, and every identifier used", () => {
  const names = cellNames(
    [
      'import { tf, losses as L } from "ssl-workbook";',
      "import * as fs from \"fs\";",
      "const { a, b: c, d = 1 } = f(x), [e, [g]] = h;",
      "let k = 2;",
      "function helper(y: number) { const inner = y; return inner + k; }",
      "class Box {}",
      "type Pair = [number, number];",
      "interface Shape { n: number }",
      "enum Mode { A }",
      "for (const loopVar of list) use(loopVar);",
      "await run(tf.zeros([1]));",
    ].join("\n"),
  );
  assert.deepEqual(sorted(names.declares), ["Box", "L", "Mode", "Pair", "Shape", "a", "c", "d", "e", "fs", "g", "helper", "k", "tf"]);
  for (const used of ["f", "x", "h", "list", "use", "run", "zeros", "inner", "loopVar"]) assert.ok(names.uses.has(used), used);
  assert.equal(names.setup, true);
  assert.equal(cellNames("const r = await setupBackend();").setup, true);
  assert.equal(cellNames("const r = 1;").setup, false);
  // Broken code yields what parses, never a throw.
  assert.ok(cellNames("const ok = 1;\nfunction (").declares.has("ok"));
});

test("cellsNeededForGrading keeps graded and setup cells and, transitively, the earlier cells declaring what they read", () => {
  const nb = notebook([
    code('import { tf } from "ssl-workbook";'), // 0 setup
    code("const SCALE = 2;"), // 1: read by 2
    code("const helper = (x: number) => x * SCALE;"), // 2: read by the solution
    markdown("### Exercise 1"),
    code("const history = train(model); // minutes"), // 4: read by nobody graded
    code("function mine(x: number) {\n  return helper(x);\n}", { grade_id: "1", solution: true }), // 5
    code("const later = mine(3);"), // 6: uses the solution but is read by nobody graded
    code("check(mine, SCALE);", { grade_id: "1-check", grade: true, points: 1 }), // 7
    code("const SCALE2 = 3;"), // 8: after the last check cell
    code("plot(history);"), // 9
  ]);
  assert.deepEqual(sorted(cellsNeededForGrading(nb, 7)), [0, 1, 2, 5, 7]);
  // Without a last cell every code cell is considered; still only what is needed.
  assert.deepEqual(sorted(cellsNeededForGrading(nb, -1)), [0, 1, 2, 5, 7]);
});

test("a name declared only after the cell that reads it does not make the later cell needed", () => {
  const nb = notebook([
    code('import { tf } from "ssl-workbook";'),
    code("function mine() { return value; }", { grade_id: "1", solution: true }),
    code("check(mine);", { grade_id: "1-check", grade: true, points: 1 }),
    code("const value = 1;"),
  ]);
  assert.deepEqual(sorted(cellsNeededForGrading(nb, -1)), [0, 1, 2]);
});
