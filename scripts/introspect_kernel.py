"""Ask the registered workbook kernel for a completion and a hover text.

    python3 introspect_kernel.py KERNEL_NAME CWD

Prints one JSON object: {"matches": [...], "inspect": "..."} for completing
`models.smallC` and inspecting `evaluation.linearProbe` after importing the
library, which is what a notebook user gets from Tab and Shift-Tab.
"""
import json
import sys

from jupyter_client.manager import start_new_kernel


def main():
    kernel_name, cwd = sys.argv[1], sys.argv[2]
    km, kc = start_new_kernel(kernel_name=kernel_name, cwd=cwd)
    try:
        reply = kc.execute_interactive('import { models, evaluation } from "ssl-workbook";', timeout=120)
        if reply["content"]["status"] != "ok":
            raise SystemExit(f"import failed: {reply['content']}")
        code = "models.smallC"
        kc.complete(code, len(code))
        matches = kc.get_shell_msg(timeout=60)["content"].get("matches", [])
        code = "evaluation.linearProbe"
        kc.inspect(code, len(code))
        inspect = kc.get_shell_msg(timeout=60)["content"].get("data", {}).get("text/plain", "")
        print(json.dumps({"matches": matches, "inspect": inspect}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
