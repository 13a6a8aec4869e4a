/**
 * What the grader hands back: a self-contained HTML page per submission, the
 * gradebook CSV for all of them, and the summary table it prints. Every piece
 * of text here can come from a student (messages quote their errors), so the
 * HTML escapes it and the CSV quotes it.
 */
import { Feedback } from "./grade";

/**
 * Text made safe to put in HTML, in element content or a quoted attribute.
 *
 * @example
 * escapeHtml('<img src=x onerror="alert(1)">'); // "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** A number of points without a float's noise (0.30000000000000004 shows as 0.3). */
const pointsText = (points: number): string => String(Math.round(points * 1000) / 1000);

/**
 * A feedback page for one submission: the points per exercise, each failed
 * check's message, and the total. Self-contained (inline style, no scripts).
 *
 * @example
 * fs.writeFileSync("build/grades/alice/arithmetic/feedback.html", feedbackHtml(feedback));
 */
export function feedbackHtml(feedback: Feedback): string {
  const rows = feedback.exercises.map((e) => {
    const passed = e.points === e.maxPoints;
    return [
      `<tr class="${passed ? "passed" : "failed"}">`,
      `<td>${escapeHtml(e.id)}</td>`,
      `<td class="points">${pointsText(e.points)} / ${pointsText(e.maxPoints)}</td>`,
      `<td><pre>${escapeHtml(e.message)}</pre></td>`,
      "</tr>",
    ].join("");
  });
  const title = `Feedback: ${feedback.submission}`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    '<head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em .8em;vertical-align:top;text-align:left}",
    "pre{margin:0;white-space:pre-wrap}.passed{background:#eefbea}.failed{background:#fdeeee}.points{white-space:nowrap}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>Notebook: ${escapeHtml(feedback.notebook ?? "unknown")}</p>`,
    feedback.error ? `<p><strong>Grading problem:</strong> ${escapeHtml(feedback.error)}</p>` : "",
    "<table><thead><tr><th>Exercise</th><th>Points</th><th>Message</th></tr></thead><tbody>",
    ...rows,
    "</tbody></table>",
    `<p><strong>Total: ${pointsText(feedback.points)} / ${pointsText(feedback.maxPoints)}</strong></p>`,
    "</body></html>",
    "",
  ].join("\n");
}

/**
 * One CSV field as RFC 4180 quotes it: in double quotes, doubled inside, when
 * it holds a comma, a quote or a line break.
 *
 * @example
 * csvField('said "hi", left'); // '"said ""hi"", left"'
 */
export function csvField(value: string | number): string {
  const text = typeof value === "number" ? pointsText(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The gradebook's columns, in order. */
export const GRADEBOOK_COLUMNS = ["submission", "exercise", "points", "max_points", "message"] as const;

/**
 * The gradebook: one row per submission and exercise (a submission whose
 * notebook is unknown gets one row with an empty exercise), CRLF line ends
 * as RFC 4180 has them.
 *
 * @example
 * fs.writeFileSync("build/grades/gradebook.csv", gradebookCsv(feedbacks));
 */
export function gradebookCsv(feedbacks: Feedback[]): string {
  const rows: (string | number)[][] = [[...GRADEBOOK_COLUMNS]];
  for (const f of feedbacks) {
    if (f.exercises.length === 0) rows.push([f.submission, "", 0, 0, f.error ?? "no exercises"]);
    for (const e of f.exercises) rows.push([f.submission, e.id, e.points, e.maxPoints, e.message]);
  }
  return rows.map((row) => row.map(csvField).join(",") + "\r\n").join("");
}

/**
 * The table the grader prints: submission, points, max, aligned.
 *
 * @example
 * console.log(summaryTable(feedbacks));
 * // submission        points  max
 * // alice/arithmetic       6    6
 */
export function summaryTable(feedbacks: Feedback[]): string {
  const rows = [["submission", "points", "max"], ...feedbacks.map((f) => [f.submission, pointsText(f.points), pointsText(f.maxPoints)])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => [r[0].padEnd(widths[0]), r[1].padStart(widths[1]), r[2].padStart(widths[2])].join("  ")).join("\n");
}
