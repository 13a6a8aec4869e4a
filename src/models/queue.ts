/**
 * The FIFO queue of keys MoCo contrasts against (He, Fan, Wu, Xie & Girshick
 * 2020, "Momentum Contrast for Unsupervised Visual Representation Learning",
 * Sec. 3.2): the last `size` keys of the momentum encoder, many more
 * negatives than one batch holds, each at most `size / batch` steps old.
 */
import { tf } from "../backend/tf";
import { checkPositiveInteger } from "../validation/arguments";

/** Options of {@link createKeyQueue}. */
export interface KeyQueueOptions {
  /** K, how many keys the queue holds (MoCo: 65536; MNIST-sized runs: a few thousand). */
  size: number;
  /** Size of one key. */
  dim: number;
}

/** A FIFO of the last `size` keys. */
export interface KeyQueue {
  /** K, the capacity. */
  readonly size: number;
  /** Size of one key. */
  readonly dim: number;
  /** How many keys it holds: min(keys enqueued so far, size). */
  readonly filled: number;
  /**
   * The storage `[size, dim]` float32, a non-trainable variable; rows are in
   * ring order, not age order. For checkpoints, with {@link KeyQueue.state}:
   * `variables: { queue: q.buffer, queue_state: q.state }`.
   */
  readonly buffer: tf.Variable;
  /** `[2]` int32 non-trainable variable: [next row to write, filled]; the queue reads it on every call, so a restored checkpoint continues exactly. */
  readonly state: tf.Variable;
  /**
   * Appends `keys` `[B, dim]` (1 <= B <= size), newest last, overwriting the
   * oldest B when full. Stores a copy: no gradient flows from the queue back
   * to whatever computed `keys`.
   */
  enqueue(keys: tf.Tensor2D): void;
  /**
   * A new tensor `[filled, dim]` of the held keys, oldest first: before the
   * queue is full only the keys enqueued so far (`[0, dim]` before the first
   * enqueue), then always `[size, dim]`.
   */
  keys(): tf.Tensor2D;
  /** Frees the variables. */
  dispose(): void;
}

/**
 * Makes an empty key queue.
 *
 * Shapes: `enqueue` takes `[B, dim]`; `keys()` returns `[filled, dim]`.
 *
 * @example
 * const queue = createKeyQueue({ size: 4096, dim: 128 });
 * // in the loss: infoNCE(q, k, { temperature: 0.2, negatives: queue.keys() })
 * // after the step: queue.enqueue(k)
 */
export function createKeyQueue(options: KeyQueueOptions): KeyQueue {
  const fn = "createKeyQueue";
  if (options === null || typeof options !== "object") throw new Error(`${fn}: options must be an object {size, dim}, got ${options}`);
  const { size, dim } = options;
  checkPositiveInteger(fn, "size", size);
  checkPositiveInteger(fn, "dim", dim);
  const buffer = tf.tidy(() => tf.variable(tf.zeros([size, dim], "float32"), false));
  const state = tf.tidy(() => tf.variable(tf.tensor1d([0, 0], "int32"), false));
  let disposed = false;
  const read = (where: string): [number, number] => {
    if (disposed) throw new Error(`${where}: the queue was disposed`);
    const [next, filled] = state.dataSync();
    return [next, filled];
  };
  const disposeAll = () => tf.dispose([buffer, state]);
  return {
    size,
    dim,
    get filled() {
      return read("KeyQueue.filled")[1];
    },
    buffer,
    state,
    enqueue(keys: tf.Tensor2D) {
      const where = "KeyQueue.enqueue";
      const [next, filled] = read(where);
      if (!(keys instanceof tf.Tensor) || keys.rank !== 2 || keys.shape[1] !== dim || keys.shape[0] < 1 || keys.shape[0] > size) {
        const got = keys instanceof tf.Tensor ? `[${keys.shape.join(", ")}]` : `${keys}`;
        throw new Error(`${where}: keys must have shape [B, ${dim}] with 1 <= B <= ${size}, got ${got}`);
      }
      if (keys.dtype !== "float32") throw new Error(`${where}: keys must be float32, got ${keys.dtype}`);
      const b = keys.shape[0];
      tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        const rows = (t: tf.Tensor2D, start: number, count: number) => {
          if (count > 0) parts.push(tf.slice(t, [start, 0], [count, dim]));
        };
        if (next + b <= size) {
          rows(buffer as tf.Tensor2D, 0, next);
          rows(keys, 0, b);
          rows(buffer as tf.Tensor2D, next + b, size - next - b);
        } else {
          // The batch wraps: its tail goes to the front rows, its head to the back.
          const head = size - next;
          const tail = b - head;
          rows(keys, head, tail);
          rows(buffer as tf.Tensor2D, tail, next - tail);
          rows(keys, 0, head);
        }
        // concat of one part returns it as is; copy so the variable never aliases `keys`.
        buffer.assign(parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0));
        state.assign(tf.tensor1d([(next + b) % size, Math.min(size, filled + b)], "int32"));
      });
    },
    keys() {
      const [next, filled] = read("KeyQueue.keys");
      return tf.tidy(() => {
        if (filled < size) return tf.slice(buffer as tf.Tensor2D, [0, 0], [filled, dim]);
        if (next === 0) return buffer.clone() as tf.Tensor2D;
        const older = tf.slice(buffer as tf.Tensor2D, [next, 0], [size - next, dim]);
        const newer = tf.slice(buffer as tf.Tensor2D, [0, 0], [next, dim]);
        return tf.concat([older, newer], 0);
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeAll();
    },
  };
}
