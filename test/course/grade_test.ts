import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { csvField, escapeHtml, feedbackHtml, gradebookCsv, summaryTable } from "../../course/feedback";
import {
  assembleSubmission,
  CellStatus,
  cellsSkippedWhenGrading,
  failureMessage,
  Feedback,
  identifyRelease,
  lastCheckCell,
  MISSING_CELL,
  reportFromOutputs,
  scoreSubmission,
  stderrMessage,
  unrunnableFeedback,
} from "../../course/grade";
import { parseAssignment } from "../../course/markers";
import { Notebook, parseNotebook, sourceText, writeNotebook } from "../../course/notebook";
import { autograderVersion, studentVersion } from "../../course/release";
import { findSubmissions, grade, parseGradeArguments } from "../../scripts/grade";
import { arithmetic, cellIndex, notebook, withSolutions } from "./notebooks";

const ADD = "function add(a: number, b: number): number {\n  return a + b;\n}";
const versions = () => {
  const nb = arithmetic();
  const assignment = parseAssignment(nb, "arithmetic.ipynb");
  return { student: studentVersion(nb, assignment), autograder: autograderVersion(nb, assignment) };
};
const sourceOf = (nb: Notebook, gradeId: string) => sourceText(nb.cells[cellIndex(nb, gradeId)]);

test("assembly takes solution cells by grade_id from the submission and every other cell from the autograder version", () => {
  const { student, autograder } = versions();
  const submission = withSolutions(student, { add: ADD, "add-check": 'console.log("✓ trust me");' });
  submission.cells[1].source = "const numbers = [12];";
  const { notebook: assembled, missing, notes } = assembleSubmission(autograder, submission);
  assert.equal(sourceOf(assembled, "add"), ADD);
  assert.equal(sourceOf(assembled, "add-check"), sourceOf(autograder, "add-check"), "an edited check cell is not used");
  assert.match(sourceOf(assembled, "add-check"), /add\(-1, 10\)/, "the hidden tests are in");
  assert.equal(sourceText(assembled.cells[1]), "const numbers = [1, 2, 3, 6];");
  assert.equal(sourceOf(assembled, "mean"), sourceOf(student, "mean"));
  assert.deepEqual(missing, []);
  assert.deepEqual(notes, {});
  assert.deepEqual(assembled.metadata, autograder.metadata);
});

test("assembly ignores the submission's order and keeps the stub for a deleted solution cell", () => {
  const { student, autograder } = versions();
  const filled = withSolutions(student, { add: ADD, total: "function total(xs: number[]): number { return 12; }" });
  const reordered = { ...filled, cells: [...filled.cells].reverse() };
  const assembled = assembleSubmission(autograder, reordered).notebook;
  assert.deepEqual(assembled.cells.map((c) => c.id), autograder.cells.map((c) => c.id));
  assert.equal(sourceOf(assembled, "total"), "function total(xs: number[]): number { return 12; }");

  const deleted = { ...filled, cells: filled.cells.filter((c) => c.metadata.nbgrader?.grade_id !== "add" && c.cell_type !== "markdown") };
  const result = assembleSubmission(autograder, deleted);
  assert.deepEqual(result.missing, ["add"]);
  assert.equal(sourceOf(result.notebook, "add"), sourceOf(autograder, "add"), "the stub stays");
  assert.equal(result.notebook.cells.length, autograder.cells.length);
});

test("assembly grades the first of duplicated solution cells, with a note, and does not take a markdown cell", () => {
  const { student, autograder } = versions();
  const filled = withSolutions(student, { add: ADD });
  const copy = JSON.parse(JSON.stringify(filled.cells[cellIndex(filled, "add")]));
  copy.source = "function add(a: number, b: number): number { return 0; }";
  filled.cells.push(copy);
  const mean = filled.cells[cellIndex(filled, "mean")];
  mean.cell_type = "markdown";
  const { notebook: assembled, missing, notes } = assembleSubmission(autograder, filled);
  assert.equal(sourceOf(assembled, "add"), ADD);
  assert.deepEqual(notes, { add: "the submission has 2 cells for exercise add; the first was graded" });
  assert.deepEqual(missing, ["mean"]);
});

test("cellsSkippedWhenGrading lists the code cells up to the last check cell that no graded cell needs", () => {
  const { autograder } = versions();
  const last = lastCheckCell(autograder);
  const skipped = cellsSkippedWhenGrading(autograder, last);
  for (const i of skipped) {
    assert.equal(autograder.cells[i].cell_type, "code");
    assert.ok(i <= last);
    assert.equal(autograder.cells[i].metadata.nbgrader, undefined, `cell ${i} is graded`);
  }
  // Every graded cell runs.
  autograder.cells.forEach((cell, i) => {
    if (cell.metadata.nbgrader?.solution || cell.metadata.nbgrader?.grade) assert.ok(!skipped.includes(i), `graded cell ${i} skipped`);
  });
});

test("lastCheckCell is the index of the last check cell, -1 without one", () => {
  assert.equal(lastCheckCell(versions().autograder), 10);
  assert.equal(lastCheckCell(notebook([])), -1);
});

test("stderrMessage: a thrown error's line, without the source excerpt, the stack or a plain Error's name", () => {
  const thrown = [
    "careful",
    "evalmachine.<anonymous>:5",
    '    throw new Error("Exercise add: add(2, 3) returned 6, expected 5");',
    "    ^",
    "",
    "Error: Exercise add: add(2, 3) returned 6, expected 5",
    "    at Proxy.add (evalmachine.<anonymous>:5:11)",
    "    at evalmachine.<anonymous>:3:13",
  ].join("\n");
  assert.equal(stderrMessage(thrown), "Exercise add: add(2, 3) returned 6, expected 5");
  const typeError = "evalmachine.<anonymous>:5\nexports.x = o.x;\n   ^\n\nTypeError: Cannot read properties of undefined (reading 'x')\n    at evalmachine.<anonymous>:5:24\n";
  assert.equal(stderrMessage(typeError), "TypeError: Cannot read properties of undefined (reading 'x')");
  // After an await Node prints no excerpt, and the cell's own stderr may come first.
  assert.equal(stderrMessage("a warning: x\nloss 0.5\nRangeError: bad range\n    at f (x:1:1)\n    at async g\n"), "RangeError: bad range");
  assert.equal(stderrMessage("a string\n"), "a string");
  assert.equal(stderrMessage("[CheckFailed: Exercise 04.1: myNtXent threw \"not implemented\" on seeded input 0.]\n"), 'Exercise 04.1: myNtXent threw "not implemented" on seeded input 0.');
  assert.equal(stderrMessage("Error: x {\n  code: 7\n}\n"), "x {");
  assert.equal(stderrMessage(""), "");
});

test("stderrMessage: tslab's compile diagnostics, the first three", () => {
  assert.equal(
    stderrMessage("1:21 - Cannot find module 'left-pad-not-installed' or its corresponding type declarations.\n"),
    "does not compile: 1:21 - Cannot find module 'left-pad-not-installed' or its corresponding type declarations.",
  );
  const many = ["1:1 - a", "2:1 - b", "3:1 - c", "4:1 - d"].join("\n");
  assert.equal(stderrMessage(many), "does not compile: 1:1 - a; 2:1 - b; 3:1 - c (and 1 more)");
});

test("failureMessage: the first line of evalue (with a non-plain error's name), else stderr, else the reason", () => {
  assert.equal(failureMessage({ index: 1, status: "error", ename: "Error", evalue: "wrong\nmore" }), "wrong");
  assert.equal(failureMessage({ index: 1, status: "error", ename: "DeadKernelError", evalue: "the kernel died" }), "DeadKernelError: the kernel died");
  assert.equal(failureMessage({ index: 1, status: "error", ename: "", evalue: "", stderr: "2:1 - Cannot find name 'add'.\n" }), "does not compile: 2:1 - Cannot find name 'add'.");
  assert.equal(failureMessage({ index: 1, status: "error" }), "the cell failed without an error message (after a flood of output it may be lost)");
  assert.equal(failureMessage({ index: 1, status: "timeout", reason: "cell 2 exceeded its 10 s limit" }), "cell 2 exceeded its 10 s limit");
  assert.equal(failureMessage({ index: 1, status: "not-run", reason: "not run: x" }), "not run: x");
});

/** An executed copy of the assembled fixture where each given cell printed `stdout`. */
function executedWith(assembled: Notebook, stdout: Record<string, string>): Notebook {
  const executed = JSON.parse(JSON.stringify(assembled)) as Notebook;
  for (const [gradeId, text] of Object.entries(stdout)) {
    executed.cells[cellIndex(executed, gradeId)].outputs = [{ output_type: "stream", name: "stdout", text }];
  }
  return executed;
}

test("scoring: points iff the check cell ran without error; the message is its ✓ line, its error, or why it did not run", () => {
  const { student, autograder } = versions();
  const assembled = assembleSubmission(autograder, student);
  const executed = executedWith(assembled.notebook, { "add-check": "checking\n✓ Exercise add: add(2, 3) = 5\n", "mean-check": "3\n" });
  const cells: CellStatus[] = [
    { index: 1, status: "ok" },
    { index: 3, status: "ok" },
    { index: 4, status: "ok" },
    { index: 6, status: "error", ename: "", evalue: "", stderr: "1:1 - Cannot find name 'x'.\n" },
    { index: 7, status: "ok" },
    { index: 9, status: "timeout", reason: "cell 10 exceeded its 10 s limit" },
    { index: 10, status: "not-run", reason: "not run: the kernel was restarted after cell 10 exceeded its 10 s limit" },
    { index: 12, status: "not-run", reason: "not run: it comes after the last check cell (--all-cells runs it)" },
  ];
  const feedback = scoreSubmission("alice/arithmetic", { assembled, executed, report: { cells } });
  assert.deepEqual([feedback.submission, feedback.notebook, feedback.points, feedback.maxPoints], ["alice/arithmetic", "arithmetic", 5, 6]);
  assert.deepEqual(feedback.exercises.map((e) => [e.id, e.points, e.maxPoints, e.message]), [
    ["add", 2, 2, "✓ Exercise add: add(2, 3) = 5"],
    ["mean", 3, 3, "passed"],
    ["total", 0, 1, "not run: the kernel was restarted after cell 10 exceeded its 10 s limit"],
  ]);
  assert.equal(feedback.error, undefined);
});

test("reportFromOutputs: a code cell with an error output failed, other code cells ran; scoring the instructor's run with it", () => {
  const nb = arithmetic();
  const { autograder } = versions();
  const executed = executedWith(nb, { "add-check": "✓ Exercise add: add(2, 3) = 5\n", "mean-check": "✓ Exercise mean: ok\n" });
  const failing = cellIndex(executed, "total-check");
  executed.cells[failing].outputs = [
    { output_type: "stream", name: "stderr", text: "Error: Exercise total: total([1, 2]) returned 4, expected 3\n" },
    { output_type: "error", ename: "", evalue: "", traceback: [] },
  ];
  const report = reportFromOutputs(executed);
  const codeCells = executed.cells.flatMap((c, i) => (c.cell_type === "code" ? [i] : []));
  assert.deepEqual(report.cells.map((c) => c.index), codeCells);
  assert.deepEqual(report.cells.filter((c) => c.status !== "ok").map((c) => c.index), [failing]);
  const feedback = scoreSubmission("solutions/arithmetic", { assembled: assembleSubmission(autograder, executed), executed, report });
  assert.deepEqual(feedback.exercises.map((e) => [e.id, e.points, e.message]), [
    ["add", 2, "✓ Exercise add: add(2, 3) = 5"],
    ["mean", 3, "✓ Exercise mean: ok"],
    ["total", 0, "Exercise total: total([1, 2]) returned 4, expected 3"],
  ]);
});

test("scoring: a failed check names its error, and the exercise cell's own failure when it had one", () => {
  const { student, autograder } = versions();
  const assembled = assembleSubmission(autograder, student);
  const thrown = "evalmachine.<anonymous>:3\nthrow e;\n^\n\nError: Exercise add: not implemented yet\n    at add (x:3:9)\n";
  const cells: CellStatus[] = [
    { index: 3, status: "error", stderr: "1:21 - Cannot find module 'left-pad'.\n" },
    { index: 4, status: "error", stderr: "1:5 - Cannot find name 'add'.\n" },
    { index: 6, status: "ok" },
    { index: 7, status: "error", stderr: thrown },
    { index: 9, status: "ok" },
    { index: 10, status: "error", ename: "DeadKernelError", evalue: "the kernel died while running this cell" },
  ];
  const feedback = scoreSubmission("bob", { assembled, executed: assembled.notebook, report: { cells } });
  assert.deepEqual(feedback.exercises.map((e) => [e.points, e.message]), [
    [0, "does not compile: 1:5 - Cannot find name 'add'. (the exercise cell itself failed: does not compile: 1:21 - Cannot find module 'left-pad'.)"],
    [0, "Exercise add: not implemented yet"],
    [0, "DeadKernelError: the kernel died while running this cell"],
  ]);
  assert.equal(feedback.points, 0);
});

test("scoring: a missing solution cell scores zero whatever its check did; an unreported check says the executor failed", () => {
  const { student, autograder } = versions();
  const deleted = { ...student, cells: student.cells.filter((c) => c.metadata.nbgrader?.grade_id !== "mean") };
  const assembled = assembleSubmission(autograder, deleted);
  const cells: CellStatus[] = [{ index: 4, status: "ok" }, { index: 7, status: "ok" }];
  const feedback = scoreSubmission("carol", { assembled, executed: assembled.notebook, report: { cells, error: "not run: the kernel failed: boom" } });
  assert.deepEqual(feedback.exercises.map((e) => [e.id, e.points, e.message]), [
    ["add", 2, "passed"],
    ["mean", 0, MISSING_CELL],
    ["total", 0, "not run: the kernel failed: boom"],
  ]);
});

test("unrunnableFeedback gives every exercise of a known release zero with the reason, and none for an unknown one", () => {
  const assignment = versions().autograder.metadata.assignment ?? null;
  const known = unrunnableFeedback("dan/arithmetic", assignment, "dan/arithmetic.ipynb is not valid JSON: Unexpected end");
  assert.equal(known.maxPoints, 6);
  assert.deepEqual(known.exercises.map((e) => [e.id, e.points, e.maxPoints]), [["add", 0, 2], ["mean", 0, 3], ["total", 0, 1]]);
  assert.ok(known.exercises.every((e) => e.message === known.error));
  assert.deepEqual(unrunnableFeedback("x", null, "why"), { submission: "x", notebook: null, points: 0, maxPoints: 0, exercises: [], error: "why" });
});

test("identifyRelease: the recorded notebook name first, else the longest released name in the file name", () => {
  const released = ["04-pretext", "04-pretext-vision", "arithmetic"];
  const recorded = notebook([]);
  recorded.metadata.assignment = { notebook: "arithmetic", exercises: [] };
  assert.equal(identifyRelease("renamed.ipynb", recorded, released), "arithmetic");
  assert.equal(identifyRelease("sub/alice-04-pretext-vision (1).ipynb", null, released), "04-pretext-vision");
  recorded.metadata.assignment = { notebook: "gone", exercises: [] };
  assert.equal(identifyRelease("arithmetic-final.ipynb", recorded, released), "arithmetic");
  assert.equal(identifyRelease("notes.ipynb", recorded, released), null);
});

test("parseNotebook names the file and what is wrong: not JSON, not a notebook", () => {
  assert.throws(() => parseNotebook('{"cells": [', "a.ipynb"), /^Error: a\.ipynb is not valid JSON: /);
  assert.throws(() => parseNotebook("[1]", "a.ipynb"), /a\.ipynb is not a notebook: expected a JSON object with a "cells" array/);
  assert.throws(() => parseNotebook('{"cells": [], "nbformat": 3}', "a.ipynb"), /not an nbformat 4 notebook: nbformat is 3/);
  assert.throws(() => parseNotebook('{"cells": [{"source": "x"}], "nbformat": 4}', "a.ipynb"), /cell 1 has no cell_type/);
  assert.throws(() => parseNotebook('{"cells": [{"cell_type": "code", "source": 1}], "nbformat": 4}', "a.ipynb"), /cell 1 has no source text/);
});

const sample: Feedback = {
  submission: 'eve/<script>alert("x")</script>',
  notebook: "arithmetic",
  points: 2.5,
  maxPoints: 6,
  exercises: [
    { id: "add", points: 2.5, maxPoints: 2.5, message: "✓ Exercise add: ok" },
    { id: "a&b", points: 0, maxPoints: 3.5, message: 'Exercise a&b: got "<b>", expected \'x\'\nsecond, line' },
  ],
};

test("feedbackHtml shows each exercise's points and message and the total, with every student-made text escaped", () => {
  const html = feedbackHtml(sample);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.doesNotMatch(html, /<script|<b>/);
  assert.match(html, /eve\/&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(html, /<td>a&amp;b<\/td><td class="points">0 \/ 3\.5<\/td><td><pre>Exercise a&amp;b: got &quot;&lt;b&gt;&quot;, expected &#39;x&#39;\nsecond, line<\/pre><\/td>/);
  assert.match(html, /Total: 2\.5 \/ 6/);
  assert.doesNotMatch(html, /<link|src=|<script/, "self-contained");
  assert.match(feedbackHtml(unrunnableFeedback("x", null, "not <valid>")), /Grading problem:<\/strong> not &lt;valid&gt;/);
  assert.equal(escapeHtml(`<a href='x'>&"`), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
});

test("the gradebook has the exact columns, one row per submission and exercise, RFC 4180 quoting and CRLF", () => {
  const csv = gradebookCsv([sample, unrunnableFeedback("frank/notes", null, "cannot tell which assignment this is")]);
  assert.equal(
    csv,
    "submission,exercise,points,max_points,message\r\n" +
      '"eve/<script>alert(""x"")</script>",add,2.5,2.5,✓ Exercise add: ok\r\n' +
      '"eve/<script>alert(""x"")</script>",a&b,0,3.5,"Exercise a&b: got ""<b>"", expected \'x\'\nsecond, line"\r\n' +
      "frank/notes,,0,0,cannot tell which assignment this is\r\n",
  );
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\r\nlines"), '"two\r\nlines"');
  assert.equal(csvField(0.1 + 0.2), "0.3");
});

test("summaryTable aligns submission, points and max", () => {
  assert.equal(
    summaryTable([sample, unrunnableFeedback("frank/notes", null, "x")]),
    [
      "submission                       points  max",
      'eve/<script>alert("x")</script>     2.5    6',
      "frank/notes                           0    0",
    ].join("\n"),
  );
});

test("parseGradeArguments: defaults, every option, and errors naming the argument", () => {
  const parsed = parseGradeArguments(["subs", "b.ipynb"], "/home/me");
  assert.deepEqual(parsed.paths, ["/home/me/subs", "/home/me/b.ipynb"]);
  assert.equal(parsed.cellTimeout, 600);
  assert.equal(parsed.notebookTimeout, 3600);
  assert.equal(parsed.allCells, false);
  assert.match(parsed.outDir, /build[\\/]grades$/);
  assert.deepEqual(parseGradeArguments(["s", "--cell-timeout", "10", "--notebook-timeout", "60.5", "--all-cells", "--out", "g"], "/w"), {
    paths: ["/w/s"],
    outDir: "/w/g",
    cellTimeout: 10,
    notebookTimeout: 60.5,
    allCells: true,
  });
  assert.throws(() => parseGradeArguments([], "/"), /grade: name the submissions to grade\nusage: npm run grade -- /);
  assert.throws(() => parseGradeArguments(["s", "--cell-timeout", "0"], "/"), /grade: --cell-timeout must be a positive number of seconds, got "0"/);
  assert.throws(() => parseGradeArguments(["s", "--notebook-timeout", "soon"], "/"), /grade: --notebook-timeout must be a positive number of seconds, got "soon"/);
  assert.throws(() => parseGradeArguments(["s", "--cell-timeout"], "/"), /grade: --cell-timeout needs a value/);
  assert.throws(() => parseGradeArguments(["s", "--out", "--all-cells"], "/"), /grade: --out needs a value/);
  assert.throws(() => parseGradeArguments(["s", "--timeout", "5"], "/"), /grade: unknown option --timeout/);
});

test("findSubmissions: ids relative to the folder, hidden folders and the output folder skipped, bad paths named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-find-"));
  const subs = path.join(dir, "subs");
  for (const file of ["alice/arithmetic.ipynb", "bob/deep/x.ipynb", "alice/.ipynb_checkpoints/arithmetic-checkpoint.ipynb", "grades/alice/executed.ipynb", "notes.txt"]) {
    fs.mkdirSync(path.dirname(path.join(subs, file)), { recursive: true });
    fs.writeFileSync(path.join(subs, file), "{}");
  }
  fs.writeFileSync(path.join(dir, "carol.ipynb"), "{}");
  assert.deepEqual(findSubmissions([subs, path.join(dir, "carol.ipynb")], path.join(subs, "grades")), [
    { id: "alice/arithmetic", file: path.join(subs, "alice", "arithmetic.ipynb") },
    { id: "bob/deep/x", file: path.join(subs, "bob", "deep", "x.ipynb") },
    { id: "carol", file: path.join(dir, "carol.ipynb") },
  ]);
  assert.throws(() => findSubmissions([path.join(dir, "nope")], dir), /grade: submission path .*nope does not exist/);
  assert.throws(() => findSubmissions([path.join(subs, "notes.txt")], dir), /grade: submission path .*notes\.txt is neither a folder nor a \.ipynb file/);
  fs.writeFileSync(path.join(dir, "arithmetic.ipynb"), "{}");
  assert.throws(() => findSubmissions([path.join(subs, "alice"), path.join(dir, "arithmetic.ipynb")], dir), /would both be submission "arithmetic"/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("grade refuses to start without autograder versions, telling to run npm run assign", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-grade-"));
  writeNotebook(path.join(dir, "subs", "a.ipynb"), notebook([]));
  const options = { paths: [path.join(dir, "subs")], outDir: path.join(dir, "out"), autograderDir: path.join(dir, "none"), notebookDir: dir, cellTimeout: 1, notebookTimeout: 1, allCells: false };
  assert.throws(() => grade(options), /grade: no autograder versions in .*none; run `npm run assign` first/);
  fs.rmSync(dir, { recursive: true, force: true });
});
