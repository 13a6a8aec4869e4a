import { test } from "node:test";
import assert from "node:assert/strict";
import { AssignmentError, checkAssignment, findRegions, parseAssignment } from "../../course/markers";
import { NotebookCell } from "../../course/notebook";
import { arithmetic, checkCell, code, exercise, markdown, notebook, solutionCell } from "./notebooks";

/** The problems of a notebook made of these cells, read as "nb.ipynb". */
function problemsOf(cells: NotebookCell[]): string[] {
  return checkAssignment(notebook(cells), "nb.ipynb").problems;
}

/** Asserts exactly one problem, naming the notebook and the cell, and matching `what`. */
function assertOneProblem(cells: NotebookCell[], cell: string, what: RegExp): void {
  const problems = problemsOf(cells);
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.ok(problems[0].startsWith(`nb.ipynb ${cell}: `), problems[0]);
  assert.match(problems[0], what);
}

const HEADING = markdown("## Exercise: add (2 points)");
const ADD = "function add(a: number, b: number): number {";
const addSolution = (body = "  // BEGIN SOLUTION\n  return a + b;\n  // END SOLUTION") => solutionCell("add", `${ADD}\n${body}\n}`);
const addCheck = (points: unknown = 2, gradeId = "add-check") => checkCell(gradeId, points, "if (add(1, 2) !== 3) throw new Error('no');");

test("the fixture assignment parses to its three exercises, in order, with their cells and points", () => {
  const assignment = parseAssignment(arithmetic(), "fixtures/arithmetic.ipynb");
  assert.deepEqual(assignment, {
    notebook: "arithmetic",
    exercises: [
      { id: "add", points: 2, solutionCell: 3, checkCell: 4 },
      { id: "mean", points: 3, solutionCell: 6, checkCell: 7 },
      { id: "total", points: 1, solutionCell: 9, checkCell: 10 },
    ],
    points: 6,
  });
});

test("a notebook without nbgrader cells is not an assignment: no exercises and no problem", () => {
  const { assignment, problems } = checkAssignment(notebook([markdown("# Notes"), code("const x = 1;")]), "notes.ipynb");
  assert.deepEqual(problems, []);
  assert.deepEqual(assignment.exercises, []);
  assert.equal(assignment.points, 0);
});

test("findRegions gives each region's marker lines and the BEGIN marker's indentation", () => {
  const source = "a\n    // BEGIN SOLUTION\n    b\n    //END SOLUTION\n// BEGIN HIDDEN TESTS\nc\n// END HIDDEN TESTS";
  assert.deepEqual(findRegions(source), {
    regions: [
      { kind: "SOLUTION", begin: 1, end: 3, indent: "    " },
      { kind: "HIDDEN TESTS", begin: 4, end: 6, indent: "" },
    ],
    problems: [],
  });
});

test("nested regions are an error naming the notebook, the cell and both lines", () => {
  const body = "  // BEGIN SOLUTION\n  // BEGIN SOLUTION\n  return a + b;\n  // END SOLUTION";
  const problems = problemsOf([HEADING, addSolution(body), addCheck()]);
  assert.ok(problems.some((p) => p.startsWith(`nb.ipynb cell 2 (${ADD}): line 3: nested region: BEGIN SOLUTION inside the SOLUTION region opened on line 2`)), problems.join("\n"));
});

test("an unclosed region is an error", () => {
  assertOneProblem([HEADING, addSolution("  // BEGIN SOLUTION\n  return a + b;"), addCheck()], `cell 2 (${ADD})`, /line 2: unclosed region: BEGIN SOLUTION has no END SOLUTION/);
});

test("END without BEGIN is an error, also when it closes the other kind", () => {
  const check = checkCell("add-check", 2, "// BEGIN HIDDEN TESTS\nx;\n// END SOLUTION\n// END HIDDEN TESTS");
  const problems = problemsOf([HEADING, addSolution(), check]);
  assert.ok(problems.some((p) => /^nb\.ipynb cell 3 \(\/\/ BEGIN HIDDEN TESTS\): line 3: END SOLUTION without BEGIN SOLUTION/.test(p)), problems.join("\n"));
  assertOneProblem([HEADING, addSolution("  return a + b;\n  // END SOLUTION"), addCheck()], `cell 2 (${ADD})`, /line 3: END SOLUTION without BEGIN SOLUTION/);
});

test("a marker sharing its line with code is an error, not silently left in", () => {
  const body = "  // BEGIN SOLUTION\n  return a + b; // END SOLUTION";
  const problems = problemsOf([HEADING, addSolution(body), addCheck()]);
  assert.ok(problems.some((p) => /cell 2 .*line 3: a region marker must be alone on its line, got "return a \+ b; \/\/ END SOLUTION"/.test(p)), problems.join("\n"));
});

test("solution markers outside a solution cell are an error, in an ordinary cell or a check cell", () => {
  const ordinary = code("const x = 1;\n// BEGIN SOLUTION\nx;\n// END SOLUTION");
  assertOneProblem([ordinary, HEADING, addSolution(), addCheck()], "cell 1 (const x = 1;)", /solution markers outside a solution cell/);
  const check = checkCell("add-check", 2, "add(1, 2);\n// BEGIN SOLUTION\n// END SOLUTION");
  assertOneProblem([HEADING, addSolution(), check], "cell 3 (add(1, 2);)", /solution markers outside a solution cell/);
  assertOneProblem([markdown("// BEGIN SOLUTION\n// END SOLUTION"), HEADING, addSolution(), addCheck()], "cell 1 (// BEGIN SOLUTION)", /solution markers outside/);
});

test("hidden-test markers outside a check cell are an error", () => {
  const body = "  // BEGIN SOLUTION\n  return a + b;\n  // END SOLUTION\n  // BEGIN HIDDEN TESTS\n  // END HIDDEN TESTS";
  assertOneProblem([HEADING, addSolution(body), addCheck()], `cell 2 (${ADD})`, /hidden-test markers outside a check cell/);
  assertOneProblem([code("// BEGIN HIDDEN TESTS\n// END HIDDEN TESTS"), ...exercise("f", 1)], "cell 1 (// BEGIN HIDDEN TESTS)", /hidden-test markers outside a check cell/);
});

test("a solution cell without a region is an error", () => {
  assertOneProblem([HEADING, addSolution("  return a + b;"), addCheck()], `cell 2 (${ADD})`, /solution cell without a \/\/ BEGIN SOLUTION \.\.\. \/\/ END SOLUTION region/);
});

test("a duplicate exercise id is an error naming both solution cells", () => {
  assertOneProblem([...exercise("f", 1), ...exercise("f", 1)], "cell 5 (function f(): number {)", /duplicate exercise id "f" \(also the solution cell 2\)/);
});

test("a check cell without a solution cell before it is an error, as is a second check cell", () => {
  assertOneProblem([addCheck(), ...exercise("f", 1)], "cell 1 (if (add(1, 2) !== 3) throw new Error('no');)", /check cell without a solution cell before it/);
  const second = checkCell("f-check", 1, "f();");
  assertOneProblem([...exercise("f", 1), second], "cell 4 (f();)", /check cell without a solution cell: exercise "f" already has its check cell 3/);
});

test("a solution cell without a check cell is an error, before the next exercise or at the end", () => {
  assertOneProblem([HEADING, addSolution(), ...exercise("f", 1)], `cell 2 (${ADD})`, /solution cell without a check cell: expected a check cell with grade_id "add-check" before the next solution cell/);
  assertOneProblem([...exercise("f", 1), HEADING, addSolution()], `cell 5 (${ADD})`, /solution cell without a check cell: expected a check cell with grade_id "add-check" after it/);
});

test("a check grade_id other than the exercise id + \"-check\" is an error", () => {
  assertOneProblem([HEADING, addSolution(), addCheck(2, "add_check")], "cell 3 (if (add(1, 2) !== 3) throw new Error('no');)", /wrong check grade_id "add_check": expected "add-check" for the solution cell 2/);
});

test("points that are not a positive number are an error", () => {
  for (const points of [0, -1, "2", null]) {
    assertOneProblem([HEADING, addSolution(), addCheck(points)], "cell 3 (if (add(1, 2) !== 3) throw new Error('no');)", new RegExp(`non-positive points: .* got ${JSON.stringify(points)}`));
  }
});

test("a missing heading is an error: no markdown cell, no Exercise heading, or no points in it", () => {
  assertOneProblem([addSolution(), addCheck()], `cell 1 (${ADD})`, /missing heading: no markdown cell before it; expected a heading with "Exercise" and "\(2 points\)"/);
  assertOneProblem([markdown("Exercise: add (2 points), not a heading"), addSolution(), addCheck()], `cell 2 (${ADD})`, /missing heading: markdown cell 1 has no heading line/);
  assertOneProblem([markdown("### Exercise: add"), addSolution(), addCheck()], `cell 2 (${ADD})`, /missing heading points: "### Exercise: add" \(cell 1\) does not state "\(2 points\)"/);
});

test("a heading whose points differ from the check cell's is an error", () => {
  assertOneProblem([markdown("## Exercise: add (3 points)"), addSolution(), addCheck(2)], `cell 2 (${ADD})`, /mismatching heading: "## Exercise: add \(3 points\)" \(cell 1\) says \(3 points\), the check cell gives \(2 points\)/);
});

test("the nearest markdown cell is the one read, and its last exercise heading; (1 point) is singular", () => {
  const cells = [markdown("## Exercise: old (5 points)"), code("const setup = 1;"), markdown("# Part 2\n\n## Exercise: add (1 point)\n\ntext"), addSolution(), addCheck(1)];
  assert.deepEqual(problemsOf(cells), []);
});

test("unusable nbgrader metadata is an error: both solution and grade, a markdown solution cell, no grade_id", () => {
  const both = code("x", { nbgrader: { solution: true, grade: true, grade_id: "x", points: 1 } });
  assertOneProblem([both], "cell 1 (x)", /solution and grade are both true/);
  const md = { ...markdown("text"), metadata: { nbgrader: { solution: true, grade: false, grade_id: "x" } } };
  assertOneProblem([md], "cell 1 (text)", /a solution cell must be a code cell, this one is markdown/);
  assertOneProblem([solutionCell("", "// BEGIN SOLUTION\n// END SOLUTION")], "cell 1 (// BEGIN SOLUTION)", /needs a non-empty string grade_id, got ""/);
});

test("parseAssignment throws an AssignmentError listing every problem", () => {
  const nb = notebook([addCheck(), HEADING, addSolution("  return a + b;")]);
  assert.throws(
    () => parseAssignment(nb, "nb.ipynb"),
    (err: unknown) => {
      assert.ok(err instanceof AssignmentError);
      assert.equal(err.problems.length, 3, err.problems.join("\n"));
      assert.match(err.message, /^3 problem\(s\) in the assignment markup:\n  nb\.ipynb cell 1 /);
      return true;
    },
  );
});
