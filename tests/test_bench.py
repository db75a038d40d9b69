"""scripts/bench_sgd_step.py (chapter 07): its --quick table runs and is well formed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_sgd_step.py"
METHODS = ["loop", "foreach=False", "foreach=True", "fused=True"]
BYTES = {"loop": 32, "foreach=False": 32, "foreach=True": 32, "fused=True": 20}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_quick_table() -> None:
    proc = run("--quick")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("device cpu, 200000 parameters in 4 tensors")
    assert lines[1].startswith("bandwidth (in-place add): ") and " GB/s" in lines[1]
    assert lines[2].split() == ["method", "bytes/param", "ms/step", "predicted", "of", "limit"]
    rows = [ln.split() for ln in lines[3:]]
    assert [r[0] for r in rows] == METHODS
    for name, nbytes, ms, predicted, fraction in rows:
        assert int(nbytes) == BYTES[name]
        assert float(ms) > 0 and float(predicted) > 0
        assert fraction.endswith("%") and float(fraction[:-1]) > 0


def test_options_are_checked() -> None:
    proc = run("--size", "1000", "--tensors", "3")
    assert proc.returncode == 2 and "not a multiple of --tensors 3" in proc.stderr
    proc = run("--repeats", "0")
    assert proc.returncode == 2 and "must be positive" in proc.stderr
    proc = run("--help")
    for option in ("--size", "--device", "--repeats", "--quick"):
        assert option in proc.stdout
