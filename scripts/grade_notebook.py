"""Execute one assembled submission cell by cell for the grader, surviving whatever the cells do.

    python3 grade_notebook.py NOTEBOOK OUTPUT STATUS --kernel NAME --cwd DIR
        --cell-timeout S --notebook-timeout S [--last-cell N]

Runs every code cell with Jupyter's own client (nbclient) and keeps going
after a failing cell. A cell gets at most S seconds (and no more than what is
left of the notebook's limit); one that runs over is interrupted, and if the
kernel does not come back within GRACE_SECONDS (Node cannot interrupt a
synchronous loop that runs after an `await`) the kernel is restarted and every
later cell is marked not run, as after the kernel dies. Cells after
--last-cell (0-based; the last check cell) are not run: they cannot change
the grade.

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
import json
import math
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

# How long an interrupted kernel has to report the cell finished.
GRACE_SECONDS = 5
# tslab drops execute requests for 200 ms after a failing cell (its queue's
# reset(200)), so the next cell waits a little longer than that.
PAUSE_AFTER_FAILURE_SECONDS = 0.5
# Keeps the status file small when a cell floods stderr.
MAX_STDERR_CHARS = 20_000


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def stream(cell, name):
    return "".join(
        text(out.get("text")) for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == name
    )


class GradingClient(NotebookClient):
    """nbclient's client, also keeping the task that collects the running cell's
    outputs: it ends when the kernel reports the cell finished, which is how an
    interrupted kernel shows it came back."""

    output_task = None

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        self.output_task = asyncio.current_task()
        return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)


async def came_back_after_interrupt(client):
    await ensure_async(client.km.interrupt_kernel())
    task = client.output_task
    if task is None or task.done():
        return True
    try:
        await asyncio.wait_for(task, GRACE_SECONDS)
        return True
    except asyncio.TimeoutError:
        return False
    except Exception:  # the collector failed for another reason: the kernel did answer
        return True


async def run_cell(client, cell, index, count, limit):
    """Runs one code cell; returns its status entry and the reason later cells cannot run (or None)."""
    replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.update({cell_index: execute_reply})
    client.timeout = max(1, math.ceil(limit["seconds"]))
    status = {"index": index}
    try:
        for attempt in range(3):
            await client.async_execute_cell(cell, index, execution_count=count)
            reply = replies.get(index, {}).get("content", {}).get("status")
            # "abort": the kernel dropped the request (see PAUSE_AFTER_FAILURE_SECONDS); it never ran.
            if reply not in ("abort", "aborted"):
                break
            await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)
        if reply == "ok":
            status["status"] = "ok"
            return status, None
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        content = replies.get(index, {}).get("content", {})
        status.update(
            status="error",
            ename=errors[0].get("ename", "") if errors else content.get("ename", ""),
            evalue=errors[0].get("evalue", "") if errors else content.get("evalue", ""),
            stderr=stream(cell, "stderr")[-MAX_STDERR_CHARS:],
        )
        if reply != "error":
            status["evalue"] = f"the kernel did not run this cell (reply {reply!r})"
        return status, None
    except CellTimeoutError:
        seconds = limit["seconds"]
        what = f"the notebook reached its {limit['notebook']} s limit in cell {index + 1}" if limit["notebook_bound"] \
            else f"cell {index + 1} exceeded its {seconds:g} s limit"
        status.update(status="timeout", reason=what, stderr=stream(cell, "stderr")[-MAX_STDERR_CHARS:])
        if not await came_back_after_interrupt(client):
            await ensure_async(client.km.restart_kernel(now=True))
            return status, f"not run: the kernel was restarted after {what}"
        if limit["notebook_bound"]:
            return status, f"not run: the notebook exceeded its {limit['notebook']} s limit"
        return status, None
    except DeadKernelError:
        status.update(status="error", ename="DeadKernelError", evalue="the kernel died while running this cell",
                      stderr=stream(cell, "stderr")[-MAX_STDERR_CHARS:])
        return status, f"not run: the kernel died in cell {index + 1}"


async def grade(nb, args):
    statuses = []
    client = GradingClient(
        nb, kernel_name=args.kernel, resources={"metadata": {"path": args.cwd}},
        allow_errors=True, shutdown_kernel="immediate",
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
    args = parser.parse_args()
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
