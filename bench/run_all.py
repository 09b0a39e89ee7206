"""Run every benchmark script in bench/ (used by `make bench`), one subprocess each.

Each script prints its own measured figures and its ratio against its baseline; this runner
adds the wall time and reports which scripts failed (exit 1 if any did).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def scripts() -> list[Path]:
    return sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name)


def main() -> int:
    failed = []
    for script in scripts():
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        print(f"== {script.name}: exit {code}, {time.perf_counter() - t0:.1f} s wall", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
