/**
 * Loading an ES-module-only package (hyparquet, hyparquet-writer) from this
 * CommonJS build. TypeScript compiles `import()` to `require()` under
 * `module: commonjs`, which cannot load an ES module on Node 20, so the
 * dynamic import is built at run time where the compiler does not rewrite it.
 */
import { pathToFileURL } from "url";

const importModule = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;

/**
 * The ES module of installed package `name`, as its `exports` resolve for Node.
 * Errors name the caller and the package.
 *
 * @example
 * const hyparquet = await importEsm<typeof import("hyparquet")>("readTable", "hyparquet");
 */
export async function importEsm<T>(fn: string, name: string): Promise<T> {
  let resolved: string;
  try {
    resolved = require.resolve(name);
  } catch {
    throw new Error(`${fn}: the npm package '${name}' is not installed; run npm install in the workbook`);
  }
  return (await importModule(pathToFileURL(resolved).href)) as T;
}
