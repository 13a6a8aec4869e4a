/**
 * Moving digits with physics: a seeded generator of short clips in which an
 * MNIST digit, shrunk to a sprite, flies around a small frame under friction,
 * gravity and wall bounces. The video pretext tasks (order verification,
 * arrow of time, time-contrastive networks) need clips whose physics is known
 * and can be switched between time-symmetric and dissipative: a reversed
 * clip of a billiard is another valid billiard; a reversed clip of a digit
 * slowing down shows it speeding up by itself, which never happens.
 *
 * The idea of moving MNIST is Srivastava, Mansimov & Salakhutdinov (2015),
 * "Unsupervised Learning of Video Representations using LSTMs"; the physics
 * options are this workbook's. The data card is data/moving-digits.md.
 */
import { createRng, type Rng } from "./random";
import { checkImageSet, type ImageSet } from "./mnist";
import {
  checkInteger,
  checkIntegerInRange,
  checkNonNegativeNumber,
  checkNumberInRange,
  checkOptions,
  checkPositiveInteger,
  checkPositiveNumber,
  describe,
} from "../validation/arguments";

/** The physics of a clip; all per frame (dt = 1 frame), lengths in pixels. */
export interface MovingDigitsPhysics {
  /** Fraction of the speed lost at the end of every frame, in [0, 1); default 0 (none). */
  friction?: number;
  /** Downward acceleration in pixels/frame^2, >= 0; default 0. */
  gravity?: number;
  /** Share of the normal speed kept at a wall bounce, in [0, 1]; default 1 (elastic). */
  restitution?: number;
}

/** Options of {@link movingDigitClips}. */
export interface MovingDigitsOptions extends MovingDigitsPhysics {
  /** Seed of every random draw (digits, initial states); same seed, same clips. */
  seed: number;
  /** Number of clips. */
  clips: number;
  /** Frames per clip (>= 2). */
  frames: number;
  /** Side of the square frame in pixels; default 28 (the workbook's CNNs take frames as they are). */
  frameSize?: number;
  /** Side of the square digit sprite in pixels (< frameSize); default 14 (MNIST downscaled by 2). */
  digitSize?: number;
  /**
   * Standard deviation of each initial velocity component in pixels/frame;
   * default 2. The "temperature" of the initial state (see the data card).
   */
  velocityStd?: number;
  /** Rows of `set` to draw, one per clip; default drawn uniformly (with replacement) from the seed. */
  sources?: ArrayLike<number>;
}

/** The options as run, every default filled in. */
export type MovingDigitsSettings = Required<Omit<MovingDigitsOptions, "sources">>;

/** A set of clips, their sprites and the state of the digit in every frame; everything on the JS heap. */
export interface MovingDigitClips {
  /** Frames `[clips, frames, frameSize, frameSize, 1]` flattened, values in [0, 1]: the default view. */
  readonly frames: Float32Array;
  /** `[clips, frames, frameSize, frameSize, 1]`. */
  readonly shape: readonly [number, number, number, number, 1];
  /** `[clips]` the digit label of each clip (constant over its frames). */
  readonly digits: Int32Array;
  /** `[clips]` the row of the source set each clip's digit came from. */
  readonly sources: Int32Array;
  /** `[clips, digitSize, digitSize]` flattened: each clip's sprite (the area-averaged digit). */
  readonly sprites: Float32Array;
  /** `[clips, frames, 2]` flattened: the sprite centre (x to the right, y downwards) in pixels. */
  readonly positions: Float32Array;
  /** `[clips, frames, 2]` flattened: the velocity (vx, vy) in pixels/frame at each frame. */
  readonly velocities: Float32Array;
  /**
   * `[clips, frames]`: the energy per unit mass, kinetic 1/2 |v|^2 plus
   * potential gravity * (floor - y), in pixels^2/frame^2 (floor is the lowest
   * centre position, so potential energy is 0 on the floor).
   */
  readonly energies: Float32Array;
  /** `[clips, frames]`: wall bounces so far, counted up to each frame (0 at frame 0). */
  readonly bounces: Int32Array;
  /** The settings the clips were made with. */
  readonly settings: MovingDigitsSettings;
}

/** A rendered camera view of the same clips (the multi-view TCN's second camera). */
export interface ClipView {
  /** Magnification about the frame centre, in (0, 1]: 0.7 shows a smaller digit moving less; default 1. */
  zoom?: number;
  /** Standard deviation of a Gaussian blur in pixels, >= 0; default 0. */
  blur?: number;
  /** Standard deviation of Gaussian pixel noise, >= 0, added after blurring; default 0. */
  noise?: number;
  /** Seed of the noise; default 0. */
  seed?: number;
}

/** Wall events handled within one frame at most; far more than any valid setting needs. */
const MAX_EVENTS_PER_FRAME = 10000;
/** A digit bouncing on the floor with less upward speed than this (pixels/frame) comes to rest. */
const REST_SPEED = 1e-6;

/**
 * Generates `options.clips` clips of `options.frames` frames: in each, one
 * digit of `set`, area-averaged to a `digitSize` sprite, moves inside a
 * `frameSize` frame and bounces off its four walls.
 *
 * Physics, per frame (exact, event-driven, float64): the centre moves
 * ballistically, x(t) = x + vx t and y(t) = y + vy t + gravity t^2 / 2
 * (y points down); when the sprite touches a wall the normal velocity flips
 * and is multiplied by `restitution`; at the end of the frame both velocity
 * components are multiplied by `1 - friction`. A digit bouncing on the floor
 * under gravity with too little speed to leave it (restitution < 1) rests
 * there and slides. With friction 0 and restitution 1 the energy
 * 1/2 |v|^2 + gravity * (floor - y) is conserved exactly (up to rounding).
 *
 * Initial state, chosen so that the conservative clips are time-symmetric:
 * the Maxwell-Boltzmann distribution p(x, v) ~ exp(-E(x, v) / velocityStd^2),
 * i.e. x uniform, y uniform (gravity 0) or barometric (denser near the
 * floor), each velocity component normal with std `velocityStd`. This
 * distribution is invariant under the conservative dynamics (it depends on the
 * energy only, which the motion and elastic walls keep, and phase-space
 * volume is preserved) and under v -> -v, so a reversed conservative clip is
 * distributed exactly as a forward one: no classifier can tell them apart.
 * Friction or restitution < 1 break this: energy only ever decreases.
 *
 * Frames are rendered by bilinear placement of the sprite at its sub-pixel
 * position (the default {@link ClipView}); {@link renderClipView} renders the
 * same motion from another camera.
 *
 * Randomness: one stream from `seed`; per clip in order, the source row
 * (unless `sources` is given), then x, y, vx, vy.
 *
 * Shapes: `set` `[n, h, w, 1]` -> frames `[clips, frames, frameSize, frameSize, 1]`,
 * positions and velocities `[clips, frames, 2]`, energies `[clips, frames]`.
 *
 * @example
 * const clips = movingDigitClips(loadMnist().train, { seed: 1, clips: 64, frames: 8, friction: 0.1 });
 * clips.energies; // decreasing along each clip
 * const x = clipTensor(clips); // [64, 8, 28, 28, 1]
 */
export function movingDigitClips(set: ImageSet, options: MovingDigitsOptions): MovingDigitClips {
  const fn = "movingDigitClips";
  checkImageSet(fn, set);
  if (set.shape[2] !== 1) throw new Error(`${fn}: set must hold grey images [n, height, width, 1], got shape [${set.shape}]`);
  if (set.n < 1) throw new Error(`${fn}: set must hold at least one image, got n = ${set.n}`);
  const settings = checkMovingDigitsOptions(fn, options);
  const { clips, frames, frameSize, digitSize } = settings;
  const rng = createRng(settings.seed);
  let sources: Int32Array;
  if (options.sources !== undefined) {
    const given = options.sources;
    if (given === null || typeof given !== "object" || typeof given.length !== "number" || given.length !== clips) {
      throw new Error(`${fn}: options.sources must hold one row of set per clip (${clips}), got ${describe(given)}`);
    }
    sources = new Int32Array(clips);
    for (let c = 0; c < clips; c++) {
      checkIntegerInRange(fn, `options.sources[${c}]`, given[c], 0, set.n, { maxExclusive: true });
      sources[c] = given[c];
    }
  } else {
    sources = new Int32Array(clips);
  }

  const pixels = frameSize * frameSize;
  const out = {
    frames: new Float32Array(clips * frames * pixels),
    digits: new Int32Array(clips),
    sources,
    sprites: new Float32Array(clips * digitSize * digitSize),
    positions: new Float32Array(clips * frames * 2),
    velocities: new Float32Array(clips * frames * 2),
    energies: new Float32Array(clips * frames),
    bounces: new Int32Array(clips * frames),
  };
  const resample = areaResampler(set.shape[0], set.shape[1], digitSize);
  for (let c = 0; c < clips; c++) {
    if (options.sources === undefined) sources[c] = rng.int(set.n);
    out.digits[c] = set.labels[sources[c]];
    const sprite = resample(set.images.subarray(sources[c] * set.shape[0] * set.shape[1], (sources[c] + 1) * set.shape[0] * set.shape[1]));
    out.sprites.set(sprite, c * digitSize * digitSize);
    const state = initialState(rng, settings);
    for (let t = 0; t < frames; t++) {
      if (t > 0) advanceOneFrame(state, settings);
      const k = c * frames + t;
      out.positions[2 * k] = state.x;
      out.positions[2 * k + 1] = state.y;
      out.velocities[2 * k] = state.vx;
      out.velocities[2 * k + 1] = state.vy;
      out.energies[k] = energyOf(state, settings);
      out.bounces[k] = state.bounces;
      drawSprite(out.frames, k * pixels, frameSize, sprite, digitSize, out.positions[2 * k], out.positions[2 * k + 1], 1); // the stored (float32) position, so a re-rendered view matches bit for bit;
    }
  }
  return { ...out, shape: [clips, frames, frameSize, frameSize, 1], settings };
}

/**
 * The same clips seen by another camera: the sprite drawn at the same
 * positions, magnified by `zoom` about the frame centre (so a zoom below 1
 * keeps it inside the frame), then blurred, then noised. Noisy values are
 * clamped to [0, 1], as a camera sensor saturates. `zoom 1, blur 0, noise 0`
 * reproduces `clips.frames` exactly.
 *
 * Shapes: -> `[clips, frames, frameSize, frameSize, 1]` flattened.
 *
 * @example
 * const view2 = renderClipView(clips, { zoom: 0.7, blur: 0.8, noise: 0.05, seed: 3 });
 */
export function renderClipView(clips: MovingDigitClips, view: ClipView = {}): Float32Array {
  const fn = "renderClipView";
  checkClips(fn, clips);
  checkOptions(fn, view, "{zoom?, blur?, noise?, seed?}");
  const { zoom = 1, blur = 0, noise = 0, seed = 0 } = view;
  checkNumberInRange(fn, "view.zoom", zoom, 0, 1, { minExclusive: true });
  checkNonNegativeNumber(fn, "view.blur", blur);
  checkNonNegativeNumber(fn, "view.noise", noise);
  checkInteger(fn, "view.seed", seed);
  const [n, frames, size] = clips.shape;
  const { digitSize } = clips.settings;
  const pixels = size * size;
  const out = new Float32Array(n * frames * pixels);
  const centre = size / 2;
  const kernel = blur > 0 ? gaussianKernel(blur) : undefined;
  const rng = createRng(seed);
  for (let c = 0; c < n; c++) {
    const sprite = clips.sprites.subarray(c * digitSize * digitSize, (c + 1) * digitSize * digitSize);
    for (let t = 0; t < frames; t++) {
      const k = c * frames + t;
      // zoom 1 skips the arithmetic, so the default view is the clips' frames bit for bit.
      const x = zoom === 1 ? clips.positions[2 * k] : centre + zoom * (clips.positions[2 * k] - centre);
      const y = zoom === 1 ? clips.positions[2 * k + 1] : centre + zoom * (clips.positions[2 * k + 1] - centre);
      drawSprite(out, k * pixels, size, sprite, digitSize, x, y, zoom);
      const frame = out.subarray(k * pixels, (k + 1) * pixels);
      if (kernel) blurInPlace(frame, size, kernel);
      if (noise > 0) for (let i = 0; i < pixels; i++) frame[i] = Math.min(1, Math.max(0, frame[i] + noise * rng.normal()));
    }
  }
  return out;
}

/**
 * The cell of a `bins` x `bins` grid over the positions the sprite centre can
 * take that holds each frame's centre: `row * bins + column`, row 0 at the
 * top. The label of a "where is the digit" probe.
 *
 * Shapes: -> `[clips * frames]` int32, clip-major (frame t of clip c at `c * frames + t`).
 *
 * @example
 * positionBins(clips, 3); // 9 classes: top-left 0 ... bottom-right 8
 */
export function positionBins(clips: MovingDigitClips, bins: number): Int32Array {
  const fn = "positionBins";
  checkClips(fn, clips);
  checkPositiveInteger(fn, "bins", bins);
  const { frameSize, digitSize } = clips.settings;
  const lo = digitSize / 2;
  const range = frameSize - digitSize;
  const n = clips.positions.length / 2;
  const out = new Int32Array(n);
  const cell = (v: number) => Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / range) * bins)));
  for (let k = 0; k < n; k++) out[k] = cell(clips.positions[2 * k + 1]) * bins + cell(clips.positions[2 * k]);
  return out;
}

/**
 * The digit label of every frame, clip-major: the label of a "which digit" probe.
 *
 * Shapes: -> `[clips * frames]` int32.
 *
 * @example
 * frameDigits(clips); // clips.digits, each repeated `frames` times
 */
export function frameDigits(clips: MovingDigitClips): Int32Array {
  checkClips("frameDigits", clips);
  const [n, frames] = clips.shape;
  const out = new Int32Array(n * frames);
  for (let c = 0; c < n; c++) out.fill(clips.digits[c], c * frames, (c + 1) * frames);
  return out;
}

/** Throws unless `clips` looks like the output of {@link movingDigitClips}. */
export function checkClips(fn: string, clips: MovingDigitClips): void {
  if (clips === null || typeof clips !== "object" || !(clips.frames instanceof Float32Array) || !Array.isArray(clips.shape) || clips.settings === undefined) {
    throw new Error(`${fn}: clips must be the output of movingDigitClips {frames, shape, positions, ...}, got ${describe(clips)}`);
  }
  const [n, frames, h, w] = clips.shape;
  if (clips.frames.length !== n * frames * h * w || clips.positions.length !== n * frames * 2 || clips.sprites.length !== n * clips.settings.digitSize ** 2) {
    throw new Error(`${fn}: clips must have frames of length ${n * frames * h * w} and positions of length ${n * frames * 2} for shape [${clips.shape}], got ${clips.frames.length} and ${clips.positions.length}`);
  }
}

function checkMovingDigitsOptions(fn: string, options: MovingDigitsOptions): MovingDigitsSettings {
  checkOptions(fn, options, "{seed, clips, frames, frameSize?, digitSize?, velocityStd?, friction?, gravity?, restitution?, sources?}");
  const { seed, clips, frames, frameSize = 28, digitSize = 14, velocityStd = 2, friction = 0, gravity = 0, restitution = 1 } = options;
  checkInteger(fn, "options.seed", seed);
  checkPositiveInteger(fn, "options.clips", clips);
  checkIntegerInRange(fn, "options.frames", frames, 2, Number.MAX_SAFE_INTEGER);
  checkPositiveInteger(fn, "options.frameSize", frameSize);
  checkIntegerInRange(fn, "options.digitSize", digitSize, 1, frameSize, { maxExclusive: true });
  checkPositiveNumber(fn, "options.velocityStd", velocityStd);
  checkNumberInRange(fn, "options.friction", friction, 0, 1, { maxExclusive: true });
  checkNonNegativeNumber(fn, "options.gravity", gravity);
  checkNumberInRange(fn, "options.restitution", restitution, 0, 1);
  return { seed, clips, frames, frameSize, digitSize, velocityStd, friction, gravity, restitution };
}

interface State {
  x: number;
  y: number;
  vx: number;
  vy: number;
  /** On the floor with no vertical speed, held there by gravity. */
  resting: boolean;
  bounces: number;
}

/** A draw from p(x, v) ~ exp(-E / velocityStd^2) inside the walls (see movingDigitClips). */
function initialState(rng: Rng, s: MovingDigitsSettings): State {
  const lo = s.digitSize / 2;
  const range = s.frameSize - s.digitSize;
  const temperature = s.velocityStd * s.velocityStd;
  const x = lo + range * rng.next();
  let y: number;
  if (s.gravity > 0) {
    // Height above the floor, h = floor - y, with density ~ exp(-gravity h / T) on [0, range]: inverse CDF.
    const rate = s.gravity / temperature;
    const h = -Math.log(1 - rng.next() * (1 - Math.exp(-rate * range))) / rate;
    y = lo + range - h;
  } else {
    y = lo + range * rng.next();
  }
  return { x, y, vx: s.velocityStd * rng.normal(), vy: s.velocityStd * rng.normal(), resting: false, bounces: 0 };
}

/** 1/2 |v|^2 + gravity * (floor - y). */
function energyOf(state: State, s: MovingDigitsSettings): number {
  const floor = s.frameSize - s.digitSize / 2;
  return 0.5 * (state.vx * state.vx + state.vy * state.vy) + s.gravity * (floor - state.y);
}

/** Smallest root t in (0, limit] of a t^2 + b t + c = 0 at which the motion points into the wall (`sign` of y'(t) = 2 a t + b). */
function firstCrossing(a: number, b: number, c: number, sign: 1 | -1, limit: number): number {
  const roots: number[] = [];
  if (a === 0) {
    if (b !== 0) roots.push(-c / b);
  } else {
    const disc = b * b - 4 * a * c;
    if (disc >= 0) {
      const sq = Math.sqrt(disc);
      // The numerically stable pair of roots.
      const q = -0.5 * (b + (b >= 0 ? sq : -sq));
      if (q !== 0) roots.push(q / a, c / q);
      else roots.push(0);
    }
  }
  let best = Infinity;
  for (const t of roots) {
    if (t > 1e-12 && t <= limit && sign * (2 * a * t + b) > 0 && t < best) best = t;
  }
  return best;
}

/** Moves the state on by one frame: ballistic flight with exact wall events, then friction. */
function advanceOneFrame(state: State, s: MovingDigitsSettings): void {
  const lo = s.digitSize / 2;
  const hi = s.frameSize - s.digitSize / 2;
  let remaining = 1;
  for (let events = 0; ; events++) {
    if (events > MAX_EVENTS_PER_FRAME) throw new Error(`movingDigitClips: more than ${MAX_EVENTS_PER_FRAME} wall bounces in one frame (a very fast digit, or one settling under gravity with options.restitution near 1); lower options.velocityStd or options.restitution`);
    const gNow = state.resting ? 0 : s.gravity;
    const tx = state.vx > 0 ? (hi - state.x) / state.vx : state.vx < 0 ? (lo - state.x) / state.vx : Infinity;
    const txHit = tx > 1e-12 && tx <= remaining ? tx : Infinity;
    // y(t) - wall = gNow/2 t^2 + vy t + (y - wall): the floor is met moving down (+), the ceiling moving up (-).
    const tFloor = state.resting ? Infinity : firstCrossing(gNow / 2, state.vy, state.y - hi, 1, remaining);
    const tCeiling = state.resting ? Infinity : firstCrossing(gNow / 2, state.vy, state.y - lo, -1, remaining);
    const ty = Math.min(tFloor, tCeiling);
    const t = Math.min(txHit, ty, remaining);
    state.x += state.vx * t;
    state.y += state.vy * t + 0.5 * gNow * t * t;
    state.vy += gNow * t;
    remaining -= t;
    const hitX = t === txHit;
    const hitY = t === ty;
    if (hitX) {
      state.x = state.vx > 0 ? hi : lo;
      state.vx = -s.restitution * state.vx;
      state.bounces++;
    }
    // Not `else`: a corner is met by both walls at once.
    if (hitY) {
      const onFloor = t === tFloor;
      state.y = onFloor ? hi : lo;
      state.vy = -s.restitution * state.vy;
      state.bounces++;
      // Too slow to leave the floor: the bounces would pile up without end (restitution < 1).
      if (onFloor && s.gravity > 0 && Math.abs(state.vy) < Math.max(REST_SPEED, s.gravity * 1e-6)) {
        state.vy = 0;
        state.resting = true;
      }
    }
    if (!hitX && !hitY) break; // the frame ended in flight
    if (remaining <= 0) break;
  }
  state.vx *= 1 - s.friction;
  state.vy *= 1 - s.friction;
}

/**
 * Exact area averaging from an `h` x `w` image to `size` x `size`: each
 * output pixel is the mean of the input area it covers (fractional pixels
 * weighted by their overlap).
 */
function areaResampler(h: number, w: number, size: number): (image: Float32Array) => Float32Array {
  const weights = (n: number): Float64Array => {
    const m = new Float64Array(size * n);
    const r = n / size;
    for (let p = 0; p < size; p++) {
      for (let k = 0; k < n; k++) {
        const overlap = Math.min(k + 1, (p + 1) * r) - Math.max(k, p * r);
        if (overlap > 0) m[p * n + k] = overlap / r;
      }
    }
    return m;
  };
  const rows = weights(h);
  const cols = weights(w);
  return (image) => {
    const tmp = new Float64Array(size * w);
    for (let p = 0; p < size; p++) for (let k = 0; k < h; k++) {
      const a = rows[p * h + k];
      if (a !== 0) for (let j = 0; j < w; j++) tmp[p * w + j] += a * image[k * w + j];
    }
    const out = new Float32Array(size * size);
    for (let p = 0; p < size; p++) for (let q = 0; q < size; q++) {
      let s = 0;
      for (let j = 0; j < w; j++) s += cols[q * w + j] * tmp[p * w + j];
      out[p * size + q] = s;
    }
    return out;
  };
}

/**
 * Draws `sprite` (`size` x `size`) centred at (x, y), scaled by `zoom`, into
 * the `frameSize` x `frameSize` frame at `offset` of `out`, by inverse
 * mapping: each frame pixel takes the bilinear sample of the sprite at its
 * centre (zero outside the sprite), so sub-pixel positions move the digit
 * smoothly, and an integer position at zoom 1 copies the sprite exactly.
 */
function drawSprite(out: Float32Array, offset: number, frameSize: number, sprite: Float32Array, size: number, x: number, y: number, zoom: number): void {
  const half = (size * zoom) / 2;
  const top = Math.max(0, Math.floor(y - half - 1));
  const bottom = Math.min(frameSize - 1, Math.ceil(y + half + 1));
  const left = Math.max(0, Math.floor(x - half - 1));
  const right = Math.min(frameSize - 1, Math.ceil(x + half + 1));
  const at = (p: number, q: number): number => (p >= 0 && p < size && q >= 0 && q < size ? sprite[p * size + q] : 0);
  for (let i = top; i <= bottom; i++) {
    // Sprite coordinates of the pixel centre (i + 0.5, j + 0.5); sprite pixel p has its centre at p + 0.5.
    const pf = (i + 0.5 - (y - half)) / zoom - 0.5;
    const p0 = Math.floor(pf);
    const fp = pf - p0;
    for (let j = left; j <= right; j++) {
      const qf = (j + 0.5 - (x - half)) / zoom - 0.5;
      const q0 = Math.floor(qf);
      const fq = qf - q0;
      const v = (1 - fp) * ((1 - fq) * at(p0, q0) + fq * at(p0, q0 + 1)) + fp * ((1 - fq) * at(p0 + 1, q0) + fq * at(p0 + 1, q0 + 1));
      if (v !== 0) out[offset + i * frameSize + j] = v;
    }
  }
}

/** A normalised 1-D Gaussian kernel of std `sigma`, radius ceil(3 sigma). */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable Gaussian blur of a `size` x `size` frame in place, zero outside the frame. */
function blurInPlace(frame: Float32Array, size: number, kernel: Float64Array): void {
  const radius = (kernel.length - 1) / 2;
  const tmp = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
    let s = 0;
    for (let d = -radius; d <= radius; d++) { const jj = j + d; if (jj >= 0 && jj < size) s += kernel[d + radius] * frame[i * size + jj]; }
    tmp[i * size + j] = s;
  }
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) {
    let s = 0;
    for (let d = -radius; d <= radius; d++) { const ii = i + d; if (ii >= 0 && ii < size) s += kernel[d + radius] * tmp[ii * size + j]; }
    frame[i * size + j] = s;
  }
}
