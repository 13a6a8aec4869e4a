/**
 * Test helpers: reading back what a figure's HTML carries, decoding PNGs.
 */
import { inflateSync } from "node:zlib";

/** The `{ data, layout, config }` JSON embedded in a figure's drawing script. */
export function embeddedFigure(html: string): { data: Record<string, unknown>[]; layout: Record<string, unknown>; config: Record<string, unknown> } {
  const match = /\n  var fig = (.*);\n  function plotly\(\)/.exec(html);
  if (!match) throw new Error("embeddedFigure: no figure JSON found in the HTML");
  return JSON.parse(match[1]);
}

/** How many copies of plotly.js an HTML string carries. */
export function libraryCopies(html: string): number {
  return html.split("* plotly.js v2.35.3").length - 1;
}

/** A decoded 8-bit PNG (greyscale or RGB, filter type 0 only), checking every chunk CRC with `crc`. */
export function decodePng(png: Uint8Array, crc: (bytes: Uint8Array) => number): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const buf = Buffer.from(png);
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  signature.forEach((b, i) => {
    if (buf[i] !== b) throw new Error(`decodePng: bad signature byte ${i}`);
  });
  let offset = 8;
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString("ascii", offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    const stored = buf.readUInt32BE(offset + 8 + length);
    if (crc(buf.subarray(offset + 4, offset + 8 + length)) !== stored) throw new Error(`decodePng: CRC mismatch in ${type}`);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8) throw new Error("decodePng: bit depth must be 8");
      channels = data[9] === 0 ? 1 : data[9] === 2 ? 3 : -1;
      if (channels < 0) throw new Error(`decodePng: colour type ${data[9]} unsupported`);
    } else if (type === "IDAT") idat.push(data);
    offset += 12 + length;
    if (type === "IEND") break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    if (raw[y * (stride + 1)] !== 0) throw new Error(`decodePng: filter ${raw[y * (stride + 1)]} unsupported`);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, pixels };
}

/** Bytes of a `data:image/png;base64,...` URI. */
export function dataUriBytes(uri: string): Uint8Array {
  const prefix = "data:image/png;base64,";
  if (!uri.startsWith(prefix)) throw new Error(`dataUriBytes: not a PNG data URI: ${uri.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(uri.slice(prefix.length), "base64"));
}
