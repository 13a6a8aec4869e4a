/**
 * Checks for exercise cells: a student's function against the library's
 * reference, or a value against the expected one, with messages that teach.
 * A failing check throws a {@link CheckFailed} (one sentence starting
 * `Exercise <id>: `); a passing one prints one "✓ " line and returns
 * undefined.
 *
 * ```ts
 * import { check, losses, tf } from "ssl-workbook";
 * check.matchesReference({ exercise: "04.1", name: "ntXentLoss", student: ntXentLoss, reference: losses.ntXentLoss, ... });
 * ```
 */
export { CheckFailed } from "./errors";
export type { CheckFailureKind } from "./errors";
export { matchesReference } from "./reference";
export type { ReferenceCheck, Checkable } from "./reference";
export { tensor, number, that } from "./assertions";
export type { ValueCheckOptions, ConditionOptions, NestedNumbers } from "./assertions";
