export { recordResults } from "./results";
export type { ResultValue } from "./results";
export { tslabKernel } from "./kernel";
export type { TslabModule, HtmlDisplay } from "./kernel";
export { budget, budgetName, BUDGET_ENV_VAR } from "./budget";
export type { BudgetEnv, BudgetName } from "./budget";
