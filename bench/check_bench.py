"""`make bench`: the compliance gate's time, as `tap check` runs it over every profile.

One fresh `tap check` process (new interpreter and jsii/Node child, warm caches as after a first
synthesis): it synthesizes every profile and the `+domain` runs, runs Checkov once over all their
files, and TAP's rules over each run. Issue 14's target: under 60 s on this machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

TAP = Path(sys.executable).with_name("tap")
TARGET_SECONDS = 60.0


def main() -> int:
    started = time.perf_counter()
    completed = subprocess.run([str(TAP), "check"], capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    print("tap check, every profile (its steps, from its progress lines):")
    print(completed.stderr.rstrip())
    print(f"tap check: {elapsed:.1f} s wall, exit {completed.returncode}")
    verdict = "met" if elapsed < TARGET_SECONDS and completed.returncode == 0 else "MISSED"
    print(f"target: tap check over every profile < {TARGET_SECONDS:g} s and clean: {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
