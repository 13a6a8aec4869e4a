/**
 * Checks the graded exercises of 01-early-methods (01.1 contrastive
 * divergence, 01.2 skip-gram's negative-sampling loss) in the executed
 * notebook: the instructor's solutions pass every check, hidden ones
 * included, and the training cells train with the student's functions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

interface Cell {
  id: string;
  cell_type: string;
  source: string | string[];
  metadata: { nbgrader?: { grade_id?: string } };
  outputs?: Array<{ output_type: string; text?: string | string[] }>;
}

const FILE = path.resolve(__dirname, "..", "..", "..", "build", "notebooks", "01-early-methods.ipynb");

function executedCells(): Cell[] {
  if (!fs.existsSync(FILE)) throw new Error(`${FILE} is missing; run \`node dist/scripts/run-notebooks.js 01-early-methods\` first`);
  return (JSON.parse(fs.readFileSync(FILE, "utf8")) as { cells: Cell[] }).cells;
}

const join = (text: string | string[] | undefined) => (Array.isArray(text) ? text.join("") : text ?? "");

/** The cell whose nbgrader grade_id is `gradeId`, and the index of the cell. */
function gradedCell(cells: Cell[], gradeId: string): [Cell, number] {
  const i = cells.findIndex((c) => c.metadata.nbgrader?.grade_id === gradeId);
  assert.ok(i >= 0, `no cell with grade_id ${gradeId}`);
  return [cells[i], i];
}

test("every check of exercises 01.1 and 01.2 passes on the instructor's solutions", () => {
  const cells = executedCells();
  // 01.1: myFreeEnergy on binary and real-valued v, myCdLoss, its gradients w.r.t. W, b, c (CD-1); hidden:
  // large pre-activations and the CD-5 gradients. 01.2: the visible check, then large scores and repeated centers.
  for (const [id, passes] of [["01.1", 10], ["01.2", 3]] as const) {
    const [cell] = gradedCell(cells, `${id}-check`);
    const printed = (cell.outputs ?? []).filter((o) => o.output_type === "stream").map((o) => join(o.text)).join("");
    const lines = printed.split("\n").filter((l) => l.startsWith(`✓ Exercise ${id}: `));
    assert.equal(lines.length, passes, `exercise ${id}: expected ${passes} passing checks, got:\n${printed}`);
    assert.ok(!printed.includes("CheckFailed"), printed);
  }
});

test("the RBMs and skip-gram train with the student's functions", () => {
  const cells = executedCells();
  for (const [id, call] of [["01.1", "myCdLoss(run.rbm, v, run.k, ctx.seed)"], ["01.2", "mySkipGramLoss(w2vSkipGramMethod.input"]] as const) {
    const [, checkAt] = gradedCell(cells, `${id}-check`);
    const training = cells[checkAt + 1];
    assert.ok(join(training.source).includes("await training.train("), `the cell after the ${id} check should be the training cell`);
    assert.ok(join(training.source).includes(call), `the training cell after exercise ${id} should call ${call}`);
  }
});
