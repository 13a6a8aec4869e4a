"""Execute one assembled submission cell by cell for the grader, surviving whatever the cells do.

    python3 grade_notebook.py NOTEBOOK OUTPUT STATUS --kernel NAME --cwd DIR
        --cell-timeout S --notebook-timeout S [--last-cell N] [--skip-cells I,J,...]

Runs every code cell with Jupyter's own client (nbclient) and keeps going
after a failing cell. A cell gets at most S seconds (and no more than what is
left of the notebook's limit); one that runs over is interrupted, and if the
kernel does not come back within GRACE_SECONDS (Node cannot interrupt a
synchronous loop that runs after an `await`) the kernel is restarted and every
later cell is marked not run, as after the kernel dies. Cells after
--last-cell (0-based; the last check cell) are not run: they cannot change
the grade. Cells listed in --skip-cells (0-based) are not run either: no
graded cell needs them (course/dependencies.ts decides).

Writes the executed notebook to OUTPUT and, to STATUS, JSON
{"cells": [{"index", "status": "ok" | "error" | "timeout" | "not-run",
"seconds", "ename", "evalue", "stderr", "reason"}], "seconds", "error"}
with one entry per code cell, for course/grade.ts to score. tslab reports a
failing cell with an empty error and the message on stderr, so stderr is kept.
Run by course/grade.ts with the Python that runs `jupyter`; exits 0 when
STATUS was written, 2 on bad arguments.
"""
import argparse
import asyncio
import collections
import json
import math
import time
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

# How long an interrupted kernel has to answer for the cell it was running.
GRACE_SECONDS = 5
# After a cell's reply, how long its outputs may still take to arrive. A cell
# that printed a flood of lines has them queued in the kernel, which sends
# them at a few thousand a second; what has not arrived by then (the last
# "✓" line, the error) is lost, but the cell's status is not.
IOPUB_DRAIN_SECONDS = 10
# tslab drops execute requests for 200 ms after a failing cell (its queue's
# reset(200)), so the next cell waits a little longer than that (and is sent
# again if it was dropped all the same).
PAUSE_AFTER_FAILURE_SECONDS = 0.3
# Keeps the status file small when a cell floods stderr.
MAX_STDERR_CHARS = 20_000
# Per cell and stream: a loop that prints until its time limit must not fill
# the grader's memory and the executed notebook. Past it a stream keeps only
# its end (where the error or the "✓" line is) and displays are dropped.
MAX_OUTPUT_CHARS = 1_000_000
TAIL_CHARS = 100_000


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def stream(cell, name):
    return "".join(
        text(out.get("text")) for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == name
    )


class StreamTail:
    """The end of a flooded stream: chunks, not one growing string, since
    copying the tail for every line of a flood is quadratic."""

    def __init__(self, output):
        self.output = output
        self.chunks = collections.deque()
        self.length = 0

    def add(self, chunk):
        self.chunks.append(chunk)
        self.length += len(chunk)
        while len(self.chunks) > 1 and self.length - len(self.chunks[0]) >= TAIL_CHARS:
            self.length -= len(self.chunks.popleft())

    def write(self):
        self.output["text"] = "".join(self.chunks)[-TAIL_CHARS:]


class GradingClient(NotebookClient):
    """nbclient's client, which also keeps the task collecting the running
    cell's outputs (to stop it after an interrupt) and caps each cell's
    outputs at MAX_OUTPUT_CHARS per stream."""

    output_task = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_chars = {}
        self.tails = {}

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        self.output_task = asyncio.current_task()
        return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        content = msg["content"]
        kind = content.get("name", "stdout") if msg["msg_type"] == "stream" else "display"
        key = (cell_index, kind)
        self.output_chars[key] = self.output_chars.get(key, 0) + len(content.get("text", "")) + len(json.dumps(content.get("data", {})))
        if self.output_chars[key] <= MAX_OUTPUT_CHARS:
            return super().output(outs, msg, display_id, cell_index)
        if key not in self.tails:
            rest = "the rest is dropped" if kind == "display" else "only its end is kept"
            outs.append(nbformat.v4.new_output(
                "stream", name="stderr", text=f"[grader: this cell's {kind} went past {MAX_OUTPUT_CHARS:,} characters; {rest}]\n"))
            self.tails[key] = StreamTail(nbformat.v4.new_output("stream", name=kind, text=""))
            if kind != "display":
                outs.append(self.tails[key].output)
        if kind != "display":
            self.tails[key].add(content.get("text", ""))
        return None

    def write_tails(self, cell_index):
        """Puts the kept ends of the cell's flooded streams into its outputs."""
        for (index, _), tail in self.tails.items():
            if index == cell_index:
                tail.write()


async def came_back_after_interrupt(client):
    """Interrupts the kernel and waits GRACE_SECONDS for its reply to the running cell.
    The shell channel, not the outputs, tells: a cell that printed a flood still
    has it queued on iopub after the kernel has stopped."""
    await ensure_async(client.km.interrupt_kernel())
    deadline = time.monotonic() + GRACE_SECONDS
    came_back = False
    while not came_back and time.monotonic() < deadline:
        try:
            reply = await ensure_async(client.kc.shell_channel.get_msg(timeout=max(0.01, deadline - time.monotonic())))
        except Empty:
            break
        came_back = reply["msg_type"] == "execute_reply"
    task = client.output_task
    if task is not None and not task.done():
        # Collect what the interrupted cell still prints (its interruption error), then stop listening for it.
        await asyncio.wait([task], timeout=1 if came_back else 0)
        task.cancel()
    return came_back


async def execute(client, cell, index, count):
    """Runs the cell, sending it again if tslab dropped the request; returns the reply's content."""
    replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.update({cell_index: execute_reply})
    for _ in range(3):
        await client.async_execute_cell(cell, index, execution_count=count)
        reply = replies.get(index, {}).get("content", {})
        # "abort": the kernel dropped the request (see PAUSE_AFTER_FAILURE_SECONDS); it never ran.
        if reply.get("status") not in ("abort", "aborted"):
            return reply
        await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)
    return reply


async def run_cell(client, cell, index, count, limit):
    """Runs one code cell within its time limit; returns its status entry and,
    when later cells cannot run, why (else None)."""
    client.timeout = max(1, math.ceil(limit["seconds"]))
    status, not_run = {"index": index, "status": "error"}, None
    try:
        reply = await execute(client, cell, index, count)
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        source = errors[0] if errors else reply
        if reply.get("status") == "ok":
            status["status"] = "ok"
        elif reply.get("status") == "error":
            status.update(ename=source.get("ename", ""), evalue=source.get("evalue", ""))
        else:
            status.update(ename="", evalue=f"the kernel did not run this cell (reply {reply.get('status')!r})")
    except CellTimeoutError:
        what = f"the notebook reached its {limit['notebook']} s limit in cell {index + 1}" if limit["notebook_bound"] \
            else f"cell {index + 1} exceeded its {limit['seconds']:g} s limit"
        status.update(status="timeout", reason=what)
        if not await came_back_after_interrupt(client):
            await ensure_async(client.km.restart_kernel(now=True))
            not_run = f"not run: the kernel was restarted after {what}"
        elif limit["notebook_bound"]:
            not_run = f"not run: the notebook exceeded its {limit['notebook']} s limit"
    except DeadKernelError:
        status.update(ename="DeadKernelError", evalue="the kernel died while running this cell")
        not_run = f"not run: the kernel died in cell {index + 1}"
    client.write_tails(index)
    if status["status"] != "ok":
        status["stderr"] = stream(cell, "stderr")[-MAX_STDERR_CHARS:]
    return status, not_run


async def grade(nb, args):
    """Runs the notebook's code cells in one kernel; returns the report for STATUS."""
    statuses = []
    client = GradingClient(
        nb, kernel_name=args.kernel, resources={"metadata": {"path": args.cwd}},
        allow_errors=True, shutdown_kernel="immediate", iopub_timeout=IOPUB_DRAIN_SECONDS,
    )
    not_run = None
    try:
        async with client.async_setup_kernel():
            started = time.monotonic()
            count = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                left = args.notebook_timeout - (time.monotonic() - started)
                if not_run is None and left <= 0:
                    not_run = f"not run: the notebook exceeded its {args.notebook_timeout:g} s limit"
                if not_run is None and args.last_cell >= 0 and index > args.last_cell:
                    not_run = "not run: it comes after the last check cell (--all-cells runs it)"
                if not_run is not None:
                    statuses.append({"index": index, "status": "not-run", "reason": not_run})
                    continue
                if index in args.skip_cells:
                    statuses.append({"index": index, "status": "not-run",
                                     "reason": "not run: no graded cell needs it (--all-cells runs it)"})
                    continue
                count += 1
                limit = {"seconds": min(args.cell_timeout, left), "notebook": f"{args.notebook_timeout:g}",
                         "notebook_bound": left < args.cell_timeout}
                began = time.monotonic()
                status, not_run = await run_cell(client, cell, index, count, limit)
                status["seconds"] = round(time.monotonic() - began, 3)
                statuses.append(status)
                if status["status"] != "ok":
                    await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)
        return {"cells": statuses}
    except Exception as error:  # the kernel did not start, or the client broke: say so for every cell left
        reason = f"not run: the kernel failed: {type(error).__name__}: {error}"
        done = {s["index"] for s in statuses}
        statuses += [{"index": i, "status": "not-run", "reason": reason}
                     for i, c in enumerate(nb.cells) if c.cell_type == "code" and i not in done]
        return {"cells": statuses, "error": reason}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("status")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--notebook-timeout", type=float, required=True)
    parser.add_argument("--last-cell", type=int, default=-1)
    parser.add_argument("--skip-cells", default="")
    args = parser.parse_args()
    try:
        args.skip_cells = {int(i) for i in args.skip_cells.split(",") if i != ""}
    except ValueError:
        parser.error(f"--skip-cells must be comma-separated cell indices, got {args.skip_cells!r}")
    if args.cell_timeout <= 0 or args.notebook_timeout <= 0:
        parser.error("--cell-timeout and --notebook-timeout must be positive")
    nb = nbformat.read(args.notebook, as_version=4)
    started = time.monotonic()
    report = asyncio.run(grade(nb, args))
    report["seconds"] = round(time.monotonic() - started, 3)
    nbformat.write(nb, args.output)
    with open(args.status, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
