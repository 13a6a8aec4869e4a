/**
 * The course assignments on the real notebooks (run by `npm run test:notebooks`
 * after `npm run assign`, the notebook harness and the grading of the student
 * versions): every notebook carries at least two exercises; the instructor's
 * run passes every check cell, hidden tests included (full marks); the student
 * versions hold no solution text and no hidden test, and grade at zero with a
 * message naming each exercise; the instructor's notebooks, graded as
 * submissions (the grader runs only the cells graded cells need), get full marks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { assembleSubmission, type Feedback, reportFromOutputs, scoreSubmission } from "../../course/grade";
import { findRegions, parseAssignment } from "../../course/markers";
import { readNotebook, sourceText, splitLines } from "../../course/notebook";
import { REPO_ROOT } from "../../kernel/jupyter";

const NOTEBOOKS = path.join(REPO_ROOT, "notebooks");
const RELEASE = path.join(REPO_ROOT, "build", "assignments");
const STUDENT_GRADES = path.join(REPO_ROOT, "build", "grades", "student");
const SOLUTION_GRADES = path.join(REPO_ROOT, "build", "grades", "solutions");
const names = fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).map((f) => f.slice(0, -6)).sort();

test("every notebook carries at least two graded exercises", () => {
  for (const name of names) {
    const assignment = parseAssignment(readNotebook(path.join(NOTEBOOKS, `${name}.ipynb`)), `${name}.ipynb`);
    assert.ok(assignment.exercises.length >= 2, `${name}: ${assignment.exercises.length} exercise(s)`);
  }
});

test("the instructor's run passes every check cell, hidden tests included: full marks", () => {
  for (const name of names) {
    const autograder = readNotebook(path.join(RELEASE, "autograder", `${name}.ipynb`));
    const executed = readNotebook(path.join(REPO_ROOT, "build", "notebooks", `${name}.ipynb`));
    const feedback = scoreSubmission(`solutions/${name}`, { assembled: assembleSubmission(autograder, executed), executed, report: reportFromOutputs(executed) });
    assert.ok(feedback.maxPoints > 0, name);
    assert.equal(feedback.points, feedback.maxPoints, `${name}: ${JSON.stringify(feedback.exercises)}`);
    for (const e of feedback.exercises) assert.match(e.message, new RegExp(`^✓ Exercise ${e.id.replace(".", "\\.")}: `), `${name} ${e.id}`);
  }
});

test("no solution text and no hidden test is left in any student version", () => {
  for (const name of names) {
    const instructor = readNotebook(path.join(NOTEBOOKS, `${name}.ipynb`));
    const student = readNotebook(path.join(RELEASE, "student", `${name}.ipynb`));
    assert.equal(student.cells.length, instructor.cells.length, `${name}: the release keeps every cell`);
    const studentText = student.cells.map((c) => sourceText(c)).join("\n");
    assert.doesNotMatch(studentText, /BEGIN SOLUTION|END SOLUTION|HIDDEN TESTS/, name);
    let hiddenLines = 0;
    instructor.cells.forEach((cell, i) => {
      const lines = splitLines(sourceText(cell)).map((l) => l.trim());
      const { regions } = findRegions(sourceText(cell));
      // Lines the cell also has outside its regions (a visible check's "check.matchesReference({") may stay.
      const inRegion = (n: number) => regions.some((r) => n >= r.begin && n <= r.end);
      const outside = new Set(lines.filter((_, n) => !inRegion(n)));
      // The release keeps the cells in order: cell i of the student version is cell i with its regions replaced.
      const released = new Set(splitLines(sourceText(student.cells[i])).map((l) => l.trim()));
      for (const region of regions) {
        // Every substantial line that only the region holds must be gone from that cell.
        for (const line of lines.slice(region.begin + 1, region.end).filter((l) => l.length >= 12 && !outside.has(l))) {
          assert.ok(!released.has(line), `${name} cell ${i + 1}: the student version still holds ${region.kind} line ${JSON.stringify(line)}`);
          hiddenLines++;
        }
      }
    });
    assert.ok(hiddenLines > 0, `${name}: no region lines found to check`);
    for (const cell of student.cells) assert.deepEqual(cell.outputs ?? [], [], `${name}: outputs cleared`);
  }
});

test("the student versions grade at zero, each exercise's message naming it", () => {
  for (const name of names) {
    const feedback = JSON.parse(fs.readFileSync(path.join(STUDENT_GRADES, name, "feedback.json"), "utf8")) as Feedback;
    assert.equal(feedback.error, undefined, `${name}: ${feedback.error}`);
    assert.ok(feedback.exercises.length >= 2, name);
    assert.equal(feedback.points, 0, `${name}: ${JSON.stringify(feedback.exercises)}`);
    for (const e of feedback.exercises) {
      assert.ok(e.message.includes(`Exercise ${e.id}`) && e.message.includes("not implemented yet"), `${name} ${e.id}: ${e.message}`);
    }
  }
  const csv = fs.readFileSync(path.join(STUDENT_GRADES, "gradebook.csv"), "utf8");
  assert.match(csv, /^submission,exercise,points,max_points,message\r\n/);
});

test("the instructor's notebooks graded as submissions get full marks, though the grader skips the cells no graded cell needs", () => {
  for (const name of names) {
    const feedback = JSON.parse(fs.readFileSync(path.join(SOLUTION_GRADES, name, "feedback.json"), "utf8")) as Feedback;
    assert.equal(feedback.error, undefined, `${name}: ${feedback.error}`);
    assert.equal(feedback.points, feedback.maxPoints, `${name}: ${JSON.stringify(feedback.exercises)}`);
    const executed = readNotebook(path.join(SOLUTION_GRADES, name, "executed.ipynb"));
    const ran = executed.cells.filter((c) => c.cell_type === "code" && c.execution_count != null).length;
    const code = executed.cells.filter((c) => c.cell_type === "code").length;
    assert.ok(ran < code, `${name}: the grader ran all ${code} code cells`);
  }
});
