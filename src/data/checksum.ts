/**
 * Source files checked against the SHA-256 digests recorded in the data cards,
 * so a corrupt or different package version fails loudly instead of training
 * on other data.
 */
import * as crypto from "crypto";
import * as fs from "fs";

/**
 * Reads a whole file and checks its SHA-256 (hex); on a mismatch or a read
 * failure the error names `caller`, the file and, for a mismatch, both digests.
 *
 * @example
 * const buf = readVerifiedFile("loadMnist", file, MNIST_SHA256["0.json"]);
 */
export function readVerifiedFile(caller: string, file: string, expectedSha256: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${caller}: cannot read source file ${file}: ${(e as Error).message}`);
  }
  const actual = crypto.createHash("sha256").update(buf).digest("hex");
  if (actual !== expectedSha256) {
    throw new Error(
      `${caller}: source file ${file} has SHA-256 ${actual}, expected ${expectedSha256}; ` +
        "the file is corrupt or from another package version",
    );
  }
  return buf;
}
