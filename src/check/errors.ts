/**
 * How a check reports: a failure throws one {@link CheckFailed} sentence (so
 * the exercise cell errors and an autograder sees it), a pass prints one
 * line starting with "✓ " and returns nothing (so a cell ending with the call
 * shows nothing else).
 */

/** What kind of mistake a failed check found, for autograders that tally them. */
export type CheckFailureKind = "threw" | "shape" | "not-scalar" | "nan" | "values" | "gradient" | "leak" | "type" | "condition";

/**
 * The error a failing check throws. Its message is one sentence starting
 * `Exercise <id>: `; its `stack` is just `CheckFailed: <message>`, because a
 * notebook prints the stack and a student should read the sentence, not the
 * library's call frames.
 *
 * @example
 * try {
 *   check.number(loss, Math.log(2), { exercise: "04.1", name: "loss" });
 * } catch (e) {
 *   if (e instanceof check.CheckFailed) console.log(e.kind, e.exercise); // "values" "04.1"
 * }
 */
export class CheckFailed extends Error {
  override readonly name = "CheckFailed";
  /** The exercise id, e.g. "04.1". */
  declare readonly exercise: string;
  /** What kind of mistake was found. */
  declare readonly kind: CheckFailureKind;

  /** `sentence` is the message after the `Exercise <id>: ` prefix, which the constructor adds. */
  constructor(exercise: string, kind: CheckFailureKind, sentence: string) {
    super(`Exercise ${exercise}: ${sentence}`);
    // Not enumerable, so Node's inspector (how tslab prints a failed cell)
    // shows the sentence alone instead of "[sentence] { exercise, kind }".
    Object.defineProperty(this, "exercise", { value: exercise, enumerable: false });
    Object.defineProperty(this, "kind", { value: kind, enumerable: false });
    // A stack that ignores writes: Node prepends the throwing line of library
    // source ("errors.js:41 throw new CheckFailed(...) ^") to the stack of an
    // error thrown in notebook code, which a student should not have to read.
    const stack = `${this.name}: ${this.message}`;
    Object.defineProperty(this, "stack", { get: () => stack, set: () => undefined, enumerable: false, configurable: true });
  }
}

/**
 * Throws the failure of `exercise` of `kind`; `sentence` follows the prefix.
 *
 * @example
 * fail("04.1", "leak", "ntXentLoss leaves 3 tensors allocated per call: wrap its work in tf.tidy or dispose intermediates.");
 */
export function fail(exercise: string, kind: CheckFailureKind, sentence: string): never {
  throw new CheckFailed(exercise, kind, sentence);
}

/**
 * Prints the pass line `✓ Exercise <id>: <sentence>` and returns undefined.
 *
 * @example
 * pass("04.1", "ntXentLoss matches the reference on 3 seeded inputs (values).");
 * // prints: ✓ Exercise 04.1: ntXentLoss matches the reference on 3 seeded inputs (values).
 */
export function pass(exercise: string, sentence: string): void {
  console.log(`✓ Exercise ${exercise}: ${sentence}`);
}
