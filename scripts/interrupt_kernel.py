"""Interrupt a training cell in the registered workbook kernel, as the ■ button does.

    python3 interrupt_kernel.py KERNEL_NAME CWD

Runs a long `training.train` cell, interrupts the kernel after a few steps,
then runs a cell that reads the history and uses the model. Prints one JSON
object with what that cell printed.
"""
import json
import sys
import time

from jupyter_client.manager import start_new_kernel

SETUP = """
import { tf, setupBackend, models, training } from "ssl-workbook";
await setupBackend("cpu");
const model = models.mlpHead({ inputDim: 8, hidden: [16], outputDim: 1, seed: 1 });
const x = tf.randomNormal([64, 8], 0, 1, "float32", 1);
const y = tf.randomNormal([64, 1], 0, 1, "float32", 2);
let history: training.History;
"""

TRAIN = """
history = await training.train({
  trainable: [model], optimizer: tf.train.sgd(0.01), steps: 1000000, seed: 1, disposeBatches: false,
  batches: function* () { while (true) yield { x: x, y: y }; },
  loss: (b) => tf.losses.meanSquaredError(b.y, model.apply(b.x) as tf.Tensor) as tf.Scalar,
});
"""

CHECK = """
const out = model.predict(x) as tf.Tensor;
console.log(JSON.stringify({ interrupted: history.interrupted, stopReason: history.stopReason,
  steps: history.steps, finite: Number.isFinite(out.sum().dataSync()[0]) }));
"""


def main():
    kernel_name, cwd = sys.argv[1], sys.argv[2]
    km, kc = start_new_kernel(kernel_name=kernel_name, cwd=cwd)
    try:
        if kc.execute_interactive(SETUP, timeout=120)["content"]["status"] != "ok":
            raise SystemExit("setup cell failed")
        kc.execute(TRAIN)
        time.sleep(4)
        km.interrupt_kernel()
        # The interrupted cell's reply, then give the loop time to finish its step.
        kc.get_shell_msg(timeout=60)
        time.sleep(1)
        printed = []
        reply = kc.execute_interactive(
            CHECK, timeout=60,
            output_hook=lambda m: printed.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
        )
        print(json.dumps({"status": reply["content"]["status"], "printed": "".join(printed), "alive": km.is_alive()}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
