/**
 * Encoders and heads shared by the notebooks and the benchmark.
 */
export { smallCnnEncoder, mlpHead, trainableVariables } from "./encoders";
export type { SmallCnnOptions, MlpHeadOptions } from "./encoders";
