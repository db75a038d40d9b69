"""Strict nbval on every notebook under simulated CPUs: `make test-portable`.

The stored outputs must be what a reader sees on *their* machine, not only on the
one that stored them. This re-runs strict nbval (the same settings as `make test`)
with one CPU thread under numerics configurations unlike this machine's native one:

- ``ATEN_CPU_CAPABILITY`` makes PyTorch dispatch its own kernels (elementwise ops,
  reductions, softmax, ...) as on an older CPU: ``default`` is the scalar/SSE code
  path that every x86-64 CPU can run; ``avx2`` is the path of a CPU without AVX-512.
- ``MKL_CBWR`` (conditional numerical reproducibility) makes MKL, which computes
  PyTorch's matrix products on x86-64, use the code path of another CPU;
  ``COMPATIBLE`` is its most conservative path (no AVX, no FMA).
- ``ONEDNN_MAX_CPU_ISA`` caps oneDNN (PyTorch's other CPU kernel library) likewise.

Two configurations, chosen because on this project's AVX2 machines they change
different things (measured: the hashes of a matrix product, a matrix-vector
product, a row sum, exp and softmax under each setting):

- ``scalar``: every library on its oldest path (ATEN_CPU_CAPABILITY=default,
  MKL_CBWR=COMPATIBLE, ONEDNN_MAX_CPU_ISA=SSE41): a CPU without AVX. Changes
  PyTorch's elementwise kernels, reductions and matrix products alike.
- ``mkl``: PyTorch's AVX2 kernels, MKL on its conservative path
  (ATEN_CPU_CAPABILITY=avx2, MKL_CBWR=COMPATIBLE): an AVX2 machine whose BLAS picks
  other kernels, which is how the stored outputs once failed on another AMD EPYC.
  It changes matrix products only, so it catches a fragile matrix product that
  ``scalar``'s other changes could mask. On an AVX-512 machine it also changes
  PyTorch's own kernels.
The variables are set here only, never in the notebooks or in `make test`: the
stored outputs must not depend on them.

Usage: python scripts/test_portable.py [CONFIG ...] [-- PYTEST_ARGS ...]
Exit status 0 when every configuration passes, 1 otherwise; a failure names the
configuration, and pytest names the notebook and the cell.
"""

import os
import subprocess
import sys

CONFIGS = {
    "scalar": {
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_CBWR": "COMPATIBLE",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
    },
    "mkl": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "COMPATIBLE"},
}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str]) -> int:
    if "--" in argv:
        cut = argv.index("--")
        names, extra = argv[:cut], argv[cut + 1 :]
    else:
        names, extra = argv, []
    names = names or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        print(f"unknown configuration(s) {unknown}; choose from {list(CONFIGS)}", file=sys.stderr)
        return 2
    # pytest's own arguments pass through unchanged ("-n 0" included); without a
    # path among them, every notebook is checked.
    targets = [] if any(os.path.exists(a) for a in extra) else ["notebooks"]
    failed = []
    for name in names:
        settings = {**CONFIGS[name], **ONE_THREAD}
        shown = " ".join(f"{k}={v}" for k, v in settings.items())
        print(f"=== configuration {name}: {shown}", flush=True)
        env = {**os.environ, **settings}
        cmd = [sys.executable, "-m", "pytest", *targets, *extra]
        if subprocess.call(cmd, env=env) != 0:
            print(f"=== FAILED under configuration {name}: {shown}", flush=True)
            failed.append(name)
    if failed:
        print(f"=== stored outputs differ under: {', '.join(failed)}")
        return 1
    print(f"=== every notebook's stored outputs hold under: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
