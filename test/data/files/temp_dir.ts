/** Test helper: a fresh folder under the system temp dir for one test. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Runs `body` with a new empty folder and removes the folder afterwards, whatever happens. */
export async function withTempDir<T>(body: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssl-workbook-files-"));
  try {
    return await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
