"""Execute one notebook top to bottom with Jupyter's own executor (nbclient).

    python3 execute_notebook.py NOTEBOOK OUTPUT KERNEL_NAME TIMEOUT_SECONDS [DRAIN_SECONDS]

Writes the executed copy to OUTPUT even when a cell fails, so the outputs up
to the failure can be read. Exits 1 on the first failing cell, printing the
cell, its error and its stderr: tslab reports a TypeScript compile error as an
empty error with the diagnostics on stderr, which nbconvert's message drops.
Run by scripts/run-notebooks.ts with the Python that runs `jupyter`.
"""
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

# After a cell's reply, nbclient waits this long for the rest of its outputs
# (up to the kernel's "idle"), then by default moves on without a word. At its
# default, 4 s, a notebook whose kernel had dropped the tail of a flood of
# output (and its "idle") was kept with outputs missing; a run that waits this
# long and still lacks the "idle" fails loudly instead.
IOPUB_DRAIN_SECONDS = 120


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def main():
    source, output, kernel_name, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    drain = int(sys.argv[5]) if len(sys.argv) > 5 else IOPUB_DRAIN_SECONDS
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        iopub_timeout=drain,
        raise_on_iopub_timeout=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
    )
    # The cell being run; a timeout can come before the cell has its execution count.
    running = {}
    client.on_cell_execute = lambda cell, cell_index: running.update(cell=cell)
    failed = None
    reason = ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        reason = str(error)
        failed = running.get("cell")
        if failed is None:
            raise
    finally:
        nbformat.write(nb, output)
    if failed is None:
        return 0
    index = nb.cells.index(failed) + 1
    print(f"cell {index} failed:\n{text(failed.source)}\n", file=sys.stderr)
    outputs = failed.get("outputs", [])
    for out in outputs:
        if out.get("output_type") == "error":
            print(f"{out.get('ename')}: {out.get('evalue')}", file=sys.stderr)
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            print(text(out.get("text")), file=sys.stderr)
    if not any(out.get("output_type") == "error" for out in outputs):
        # The kernel reported an error without an error output: show what the executor was told.
        print(f"executor: {reason[-3000:]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
