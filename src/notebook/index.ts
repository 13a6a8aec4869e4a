export { recordResults } from "./results";
export type { ResultValue } from "./results";
