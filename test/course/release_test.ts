import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AssignmentError, findRegions, parseAssignment } from "../../course/markers";
import { Notebook, notebookJson, readNotebook, sourceText, writeNotebook } from "../../course/notebook";
import { autograderVersion, replaceRegions, stubLines, studentVersion } from "../../course/release";
import { assign, parseAssignArguments } from "../../scripts/assign";
import { arithmetic, cellIndex, code, exercise, markdown, notebook } from "./notebooks";

const released = () => {
  const nb = arithmetic();
  const assignment = parseAssignment(nb, "arithmetic.ipynb");
  return { nb, student: studentVersion(nb, assignment), autograder: autograderVersion(nb, assignment) };
};
const source = (nb: Notebook, gradeId: string) => sourceText(nb.cells[cellIndex(nb, gradeId)]);

/** The lines inside every region of one kind in the instructor's notebook, trimmed. */
function regionLines(nb: Notebook, kind: "SOLUTION" | "HIDDEN TESTS"): string[] {
  return nb.cells.flatMap((cell) => {
    const lines = sourceText(cell).split("\n");
    return findRegions(sourceText(cell))
      .regions.filter((r) => r.kind === kind)
      .flatMap((r) => lines.slice(r.begin + 1, r.end).map((l) => l.trim()));
  });
}

test("stubLines: the comment and a throw naming the exercise, at the given indentation", () => {
  assert.deepEqual(stubLines("04-1-nt-xent-mask", "    "), [
    "    // YOUR CODE HERE",
    '    throw new Error("Exercise 04-1-nt-xent-mask: not implemented yet (replace this line with your code)");',
  ]);
});

test("replaceRegions replaces each region with its markers and keeps every line around them", () => {
  const text = "a\n// BEGIN SOLUTION\nb\n// END SOLUTION\nc\n  // BEGIN SOLUTION\n  d\n  e\n  // END SOLUTION\nf";
  const seen: string[][] = [];
  const out = replaceRegions(text, "SOLUTION", (region, inside) => {
    seen.push(inside);
    return [`${region.indent}<${inside.length}>`];
  });
  assert.equal(out, "a\n<1>\nc\n  <2>\nf");
  assert.deepEqual(seen, [["  d", "  e"], ["b"]]);
  assert.equal(replaceRegions(text, "HIDDEN TESTS", () => ["x"]), text);
});

test("the student stub keeps the signature, the indentation and the code around the region", () => {
  const { student } = released();
  assert.equal(
    source(student, "add"),
    [
      "/** The sum of two numbers. */",
      "function add(a: number, b: number): number {",
      "  // YOUR CODE HERE",
      '  throw new Error("Exercise add: not implemented yet (replace this line with your code)");',
      "}",
    ].join("\n"),
  );
  assert.equal(
    source(student, "total"),
    [
      "/** The sum of a list, with add. */",
      "function total(xs: number[]): number {",
      "  let sum = 0;",
      "  // YOUR CODE HERE",
      '  throw new Error("Exercise total: not implemented yet (replace this line with your code)");',
      "  return sum;",
      "}",
    ].join("\n"),
  );
  assert.match(source(student, "mean"), /^ {2}await new Promise\(\(resolve\) => setTimeout\(resolve, 1\)\);\n {2}\/\/ YOUR CODE HERE\n {2}throw new Error\("Exercise mean: /m);
});

test("no solution line and no hidden test survives in the student version", () => {
  const { nb, student } = released();
  const studentText = notebookJson(student);
  const secrets = [...regionLines(nb, "SOLUTION"), ...regionLines(nb, "HIDDEN TESTS")].filter((l) => !l.startsWith("}"));
  assert.ok(secrets.length >= 8, `found only ${secrets.length} region lines in the fixture`);
  for (const line of secrets) assert.ok(!studentText.includes(JSON.stringify(line).slice(1, -1)), `the student version still holds: ${line}`);
  assert.doesNotMatch(studentText, /BEGIN|END (SOLUTION|HIDDEN)/);
  assert.equal(source(student, "add-check"), source(arithmetic(), "add-check").replace(/\/\/ BEGIN HIDDEN TESTS[^]*\/\/ END HIDDEN TESTS\n/, ""));
});

test("the autograder version keeps the hidden tests without their markers, and stubs the solutions", () => {
  const { nb, autograder } = released();
  const check = source(autograder, "mean-check");
  for (const line of regionLines(nb, "HIDDEN TESTS")) assert.ok(check.includes(line) || source(autograder, "add-check").includes(line), line);
  assert.match(check, /^const single = await mean\(\[10\]\);$/m);
  assert.doesNotMatch(notebookJson(autograder), /BEGIN|END (SOLUTION|HIDDEN)/);
  assert.equal(source(autograder, "add"), source(released().student, "add"));
  assert.doesNotMatch(notebookJson(autograder), /return a \+ b/);
});

test("released versions clear outputs, execution counts and timings, and record metadata.assignment", () => {
  const nb = arithmetic();
  for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
    cell.outputs = [{ output_type: "stream", name: "stdout", text: "5\n" }];
    cell.execution_count = 7;
    cell.metadata.execution = { "iopub.status.busy": "2024-01-01" };
  }
  const assignment = parseAssignment(nb, "arithmetic.ipynb");
  for (const version of [studentVersion(nb, assignment), autograderVersion(nb, assignment)]) {
    for (const cell of version.cells.filter((c) => c.cell_type === "code")) {
      assert.deepEqual(cell.outputs, []);
      assert.equal(cell.execution_count, null);
      assert.equal(cell.metadata.execution, undefined);
    }
    assert.deepEqual(version.metadata.assignment, {
      notebook: "arithmetic",
      exercises: [{ id: "add", points: 2 }, { id: "mean", points: 3 }, { id: "total", points: 1 }],
    });
    assert.deepEqual(version.metadata.kernelspec, nb.metadata.kernelspec);
  }
  assert.equal(nb.cells[1].execution_count, 7, "the instructor's notebook itself is left as it was");
});

test("check cells are released read-only and undeletable, solution cells undeletable", () => {
  const { student } = released();
  const check = student.cells[cellIndex(student, "add-check")].metadata;
  assert.equal(check.editable, false);
  assert.equal(check.deletable, false);
  const solution = student.cells[cellIndex(student, "add")].metadata;
  assert.equal(solution.deletable, false);
  assert.equal(solution.editable, undefined);
});

test("notebookJson writes nbformat's layout: sorted keys, one-space indent, sources as lines, a final newline", () => {
  const text = notebookJson(notebook([code("a\nb")]));
  assert.equal(
    text,
    '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": null,\n   "metadata": {},\n   "outputs": [],\n   "source": [\n    "a\\n",\n    "b"\n   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
  );
  assert.equal(notebookJson(arithmetic()), fs.readFileSync(path.join(__dirname, "..", "..", "..", "test", "course", "fixtures", "arithmetic.ipynb"), "utf8"));
});

/** A notebooks folder with the fixture assignment, a notebook without exercises, and the given extra ones. */
function notebooksFolder(extra: Record<string, Notebook> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "course-assign-"));
  writeNotebook(path.join(dir, "notebooks", "arithmetic.ipynb"), arithmetic());
  writeNotebook(path.join(dir, "notebooks", "00-intro.ipynb"), notebook([markdown("# Intro"), code("1")]));
  for (const [name, nb] of Object.entries(extra)) writeNotebook(path.join(dir, "notebooks", `${name}.ipynb`), nb);
  return dir;
}

test("assign writes the student and autograder versions of each assignment and skips the others", () => {
  const dir = notebooksFolder();
  const out = path.join(dir, "release");
  const { released: done, skipped } = assign({ notebookDir: path.join(dir, "notebooks"), outDir: out });
  assert.deepEqual(skipped, ["00-intro"]);
  assert.deepEqual(done, [{
    name: "arithmetic",
    exercises: [{ id: "add", points: 2 }, { id: "mean", points: 3 }, { id: "total", points: 1 }],
    points: 6,
    student: path.join(out, "student", "arithmetic.ipynb"),
    autograder: path.join(out, "autograder", "arithmetic.ipynb"),
  }]);
  const written = fs.readFileSync(done[0].student, "utf8");
  assert.ok(written.startsWith('{\n "cells": [\n  {\n') && written.endsWith("}\n"));
  assert.equal(written, notebookJson(released().student));
  assert.equal(notebookJson(readNotebook(done[0].autograder)), notebookJson(released().autograder));
  assert.deepEqual(fs.readdirSync(path.join(out, "student")), ["arithmetic.ipynb"]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("assign writes nothing when any notebook has a problem, and lists them all", () => {
  const broken = notebook([...exercise("f", 1), code("// BEGIN SOLUTION"), code("// END HIDDEN TESTS")]);
  const dir = notebooksFolder({ "02-broken": broken });
  const out = path.join(dir, "release");
  assert.throws(() => assign({ notebookDir: path.join(dir, "notebooks"), outDir: out }), (err: unknown) => {
    assert.ok(err instanceof AssignmentError);
    assert.deepEqual(err.problems, [
      "02-broken.ipynb cell 4 (// BEGIN SOLUTION): line 1: unclosed region: BEGIN SOLUTION has no END SOLUTION",
      "02-broken.ipynb cell 5 (// END HIDDEN TESTS): line 1: END HIDDEN TESTS without BEGIN HIDDEN TESTS",
    ]);
    return true;
  });
  assert.equal(fs.existsSync(out), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("assign releases only the named notebooks; a full run removes releases that are no longer assignments", () => {
  const dir = notebooksFolder();
  const notebooks = path.join(dir, "notebooks");
  const out = path.join(dir, "release");
  writeNotebook(path.join(out, "student", "old.ipynb"), notebook([]));
  assert.deepEqual(assign({ notebookDir: notebooks, names: ["00-intro"], outDir: out }), { released: [], skipped: ["00-intro"] });
  assert.ok(fs.existsSync(path.join(out, "student", "old.ipynb")), "a named run leaves other releases alone");
  assign({ notebookDir: notebooks, outDir: out });
  assert.deepEqual(fs.readdirSync(path.join(out, "student")), ["arithmetic.ipynb"]);
  assert.throws(() => assign({ notebookDir: notebooks, names: ["nope"], outDir: out }), /assign: no notebook nope\.ipynb in .*; have 00-intro, arithmetic/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("parseAssignArguments takes names in any form and --out relative to where npm was started", () => {
  assert.deepEqual(parseAssignArguments(["notebooks/04-pretext-vision.ipynb", "01-early-methods", "--out", "rel"], "/home/me"), {
    names: ["04-pretext-vision", "01-early-methods"],
    outDir: "/home/me/rel",
  });
  assert.throws(() => parseAssignArguments(["--out"], "/"), /assign: --out needs a folder/);
  assert.throws(() => parseAssignArguments(["--outdir", "x"], "/"), /assign: unknown option --outdir/);
});
