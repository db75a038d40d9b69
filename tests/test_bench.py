"""scripts/bench_sgd_step.py (chapter 08): the table runs, is well formed, and its JSON
holds what the text shows.

No assertion here depends on how fast the machine is: a busy machine makes every
time longer, so only facts that hold at any speed are checked (positive times, the
byte counts, the same numbers in text and JSON). The claims about speed are made,
with margins, in chapter 08 itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "bench_sgd_step.py"
METHODS = ["loop", "foreach=False", "foreach=True", "fused=True", "plain SGD"]
BYTES = {"loop": 32, "foreach=False": 32, "foreach=True": 32, "fused=True": 20, "plain SGD": 12}


def load_script():
    spec = importlib.util.spec_from_file_location("bench_sgd_step", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300
    )


def test_quick_table(tmp_path: Path) -> None:
    path = tmp_path / "table.json"
    proc = run("--quick", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("device cpu (") and lines[0].endswith(", 1 thread(s)")
    assert lines[1] == "200000 parameters in 4 tensors, float32, median of 3"
    yard = re.fullmatch(
        r"bandwidth \(the faster of in-place scale (\S+) GB/s and add (\S+) GB/s, "
        r"same rounds\): (\S+) GB/s",
        lines[2],
    )
    assert yard, lines[2]
    assert lines[3].split() == ["method", "bytes/param", "ms/step", "predicted", "of", "limit"]
    rows = [ln.rsplit(maxsplit=4) for ln in lines[4:]]  # a name may hold a space
    assert [r[0] for r in rows] == METHODS

    table = json.loads(path.read_text())
    assert table["device"] == "cpu" and table["device_name"]
    assert (table["size"], table["tensors"], table["repeats"], table["threads"]) == (
        200_000,
        4,
        3,
        1,
    )
    # W is the faster of the two yardsticks, as the text prints them
    yardsticks = table["yardsticks_bytes_per_s"]
    assert list(yardsticks) == ["scale", "add"] and min(yardsticks.values()) > 0
    assert table["bandwidth_bytes_per_s"] == max(yardsticks.values())
    assert [f"{v / 1e9:.1f}" for v in (yardsticks["scale"], yardsticks["add"])] == list(
        yard.groups()[:2]
    )
    assert yard.group(3) == f"{table['bandwidth_bytes_per_s'] / 1e9:.1f}"
    assert list(table["methods"]) == METHODS
    for (name, nbytes, ms, predicted, fraction), (key, r) in zip(rows, table["methods"].items()):
        assert name == key
        assert int(nbytes) == r["bytes_per_param"] == BYTES[name]
        assert r["seconds"] > 0 and r["predicted_seconds"] > 0
        # the prediction is the method's bytes ÷ W
        expected = BYTES[name] * table["size"] / table["bandwidth_bytes_per_s"]
        assert abs(r["predicted_seconds"] - expected) <= 1e-12 * expected
        # the fraction is predicted ÷ measured, whatever the speed of the machine
        assert abs(r["fraction"] - r["predicted_seconds"] / r["seconds"]) < 1e-12
        assert (
            ms == f"{1e3 * r['seconds']:.3f}" and predicted == f"{1e3 * r['predicted_seconds']:.3f}"
        )
        assert fraction == f"{r['fraction']:.0%}"


def test_options_are_checked() -> None:
    proc = run("--size", "1000", "--tensors", "3")
    assert proc.returncode == 2 and "not a multiple of --tensors 3" in proc.stderr
    proc = run("--repeats", "0")
    assert proc.returncode == 2 and "must be positive" in proc.stderr
    proc = run("--threads", "0")
    assert proc.returncode == 2 and "must be positive" in proc.stderr
    proc = run("--help")
    for option in (
        "--size",
        "--tensors",
        "--device",
        "--repeats",
        "--threads",
        "--json",
        "--quick",
    ):
        assert option in proc.stdout


def test_default_cpu_size_is_twice_the_last_level_cache() -> None:
    bench = load_script()
    for llc in [None, 2**20, 32 * 2**20, 300 * 2**20, 2**30 + 12345]:
        n = bench.default_cpu_size(llc)
        assumed = 64 * 2**20 if llc is None else llc
        assert n * bench.BYTES_PER_FLOAT >= 2 * assumed, (llc, n)
        assert n >= 2**25 and n % 2**20 == 0, (llc, n)
        # and not much more than that: within 1 MiB of elements of the larger bound
        assert n <= max(2**25, 2 * assumed // bench.BYTES_PER_FLOAT + 2**20), (llc, n)
    llc = bench.last_level_cache()
    assert llc is None or llc > 0
