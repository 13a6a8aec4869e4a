export { recordResults } from "./results";
export type { ResultValue } from "./results";
export { tslabKernel } from "./kernel";
export type { TslabModule, HtmlDisplay } from "./kernel";
