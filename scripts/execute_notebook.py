"""Execute one notebook top to bottom with Jupyter's own executor (nbclient).

    python3 execute_notebook.py NOTEBOOK OUTPUT KERNEL_NAME TIMEOUT_SECONDS

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
from nbclient.exceptions import CellExecutionError


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def main():
    source, output, kernel_name, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}},
    )
    failed = None
    reason = ""
    try:
        client.execute()
    except CellExecutionError as error:
        reason = str(error)
        # The failing cell is the last one that has an execution count.
        executed = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
        failed = executed[-1] if executed else None
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
