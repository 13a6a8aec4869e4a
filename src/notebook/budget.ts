/**
 * The budget switch: one notebook, two sizes of run. `quick` (the default,
 * what the tests run) keeps every notebook to minutes on a laptop CPU;
 * `full` (`SSL_WORKBOOK_BUDGET=full npm start`) trains longer on more data
 * for numbers closer to the papers'.
 */

/** Environment variable that picks the budget. */
export const BUDGET_ENV_VAR = "SSL_WORKBOOK_BUDGET";

/** The two budgets. */
export type BudgetName = "quick" | "full";

/** Environment variables, as `process.env`. */
export type BudgetEnv = Record<string, string | undefined>;

/**
 * The budget in force: `"full"` when `SSL_WORKBOOK_BUDGET` is `full`,
 * `"quick"` when it is `quick`, unset or empty. Any other value throws,
 * naming the variable, its value and the allowed values, so a typo never
 * runs the wrong budget silently. `env` defaults to `process.env`.
 *
 * @example
 * budgetName(); // "quick"
 * budgetName({ SSL_WORKBOOK_BUDGET: "full" }); // "full"
 */
export function budgetName(env: BudgetEnv = process.env): BudgetName {
  if (env === null || typeof env !== "object") throw new Error(`budgetName: env must be an object of environment variables, got ${env}`);
  const value = env[BUDGET_ENV_VAR];
  if (value === undefined || value === "" || value === "quick") return "quick";
  if (value === "full") return "full";
  throw new Error(`budgetName: ${BUDGET_ENV_VAR} must be "quick" or "full" (or unset for quick), got ${JSON.stringify(value)}`);
}

/**
 * Picks `choices.quick` or `choices.full` by {@link budgetName}: any value,
 * a number of epochs or a whole settings object. `env` defaults to
 * `process.env`.
 *
 * @example
 * const EPOCHS = budget({ quick: 1, full: 10 });
 * const run = budget({ quick: { trainSize: 2000, epochs: 1 }, full: { trainSize: 60000, epochs: 10 } });
 */
export function budget<T>(choices: { quick: T; full: T }, env: BudgetEnv = process.env): T {
  if (choices === null || typeof choices !== "object") {
    throw new Error(`budget: choices must be an object {quick, full}, got ${choices}`);
  }
  for (const key of ["quick", "full"] as const) {
    if (!(key in choices) || choices[key] === undefined) {
      throw new Error(`budget: choices.${key} must be given, got ${choices[key]}`);
    }
  }
  const name = budgetName(env);
  return choices[name];
}
