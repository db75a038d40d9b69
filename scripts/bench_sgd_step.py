"""Time one SGD-with-momentum step four ways and compare with the bandwidth limit.

Chapter 07 of the book ("What a step costs") explains the table this prints:

    python scripts/bench_sgd_step.py --size 10000000 --device cpu --repeats 7
    python scripts/bench_sgd_step.py --quick

Each method updates the same parameters (split into --tensors tensors of equal
size) with momentum 0.9. The predicted time is the bytes a method moves divided by
the memory bandwidth measured with a large in-place add (`x.add_(y)`: read two
float32 values, write one) on the same device.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

BYTES_PER_FLOAT = 4
# Bytes moved per parameter, in float32 words read + written (see chapter 07):
# the loop and foreach=False/True run three in-place ops
#   buf.mul_(momentum)        read b, write b         2 words
#   buf.add_(grad)            read b, g, write b      3 words
#   param.add_(buf, -lr)      read theta, b, write    3 words
# a fused kernel reads theta, g, b once and writes theta, b once: 5 words.
WORDS = {"loop": 8, "foreach=False": 8, "foreach=True": 8, "fused=True": 5}


def sync(device: torch.device) -> None:
    """Wait for queued kernels (GPUs run asynchronously; a CPU needs nothing)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median wall-clock seconds of `fn()` over `repeats` runs, after one warm-up."""
    if repeats < 1:
        raise ValueError(f"Invalid repeats: {repeats}")
    fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bandwidth(size: int, device: torch.device, repeats: int) -> float:
    """Bytes per second of x.add_(y) on `size` float32 values (2 reads + 1 write each).

    An in-place add has the access pattern of the optimizer's own ops; a copy into a
    fresh buffer reads less than it seems to on CPUs (write-allocate caches read the
    destination first).
    """
    x = torch.rand(size, device=device)
    y = torch.rand(size, device=device)
    t = median_time(lambda: x.add_(y), device, repeats)
    return 3 * size * BYTES_PER_FLOAT / t


def make_steps(
    size: int, tensors: int, device: torch.device, lr: float = 0.01, momentum: float = 0.9
) -> dict[str, Callable[[], object]]:
    """One step function per method, each on its own copy of the same parameters."""
    if size % tensors:
        raise ValueError(f"size {size} is not a multiple of tensors {tensors}")
    gen = torch.Generator().manual_seed(0)
    n = size // tensors
    data = [torch.randn(n, generator=gen) for _ in range(tensors)]
    grads = [torch.randn(n, generator=gen) for _ in range(tensors)]

    def fresh() -> list[torch.nn.Parameter]:
        params = [torch.nn.Parameter(d.clone().to(device)) for d in data]
        for p, g in zip(params, grads):
            p.grad = g.clone().to(device)
        return params

    steps: dict[str, Callable[[], object]] = {}
    params = fresh()
    bufs = [p.grad.clone() for p in params]

    @torch.no_grad()
    def loop() -> None:
        for p, b in zip(params, bufs):
            b.mul_(momentum).add_(p.grad)
            p.add_(b, alpha=-lr)

    steps["loop"] = loop
    for name, kw in [
        ("foreach=False", {"foreach": False}),
        ("foreach=True", {"foreach": True}),
        ("fused=True", {"fused": True}),
    ]:
        opt = torch.optim.SGD(fresh(), lr=lr, momentum=momentum, **kw)
        opt.step()  # the first step creates the momentum buffers; time later ones
        steps[name] = opt.step
    return steps


def bench(size: int, tensors: int, device: torch.device, repeats: int) -> tuple[list[dict], float]:
    """Rows of the table (method, bytes per parameter, measured and predicted time)
    and the measured bandwidth in bytes per second."""
    bw = bandwidth(size, device, repeats)
    rows = []
    for name, fn in make_steps(size, tensors, device).items():
        t = median_time(fn, device, repeats)
        predicted = WORDS[name] * BYTES_PER_FLOAT * size / bw
        rows.append(
            {
                "method": name,
                "bytes": WORDS[name] * BYTES_PER_FLOAT,
                "ms": 1e3 * t,
                "predicted_ms": 1e3 * predicted,
                "fraction": predicted / t,
            }
        )
    return rows, bw


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="parameters in all")
    parser.add_argument("--tensors", type=int, default=10, help="tensors they are split into")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per method")
    parser.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.tensors, args.repeats = 200_000, 4, 3
    if args.size < 1 or args.tensors < 1 or args.repeats < 1:
        parser.error("--size, --tensors and --repeats must be positive")
    if args.size % args.tensors:
        parser.error(f"--size {args.size} is not a multiple of --tensors {args.tensors}")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda asked for, but torch.cuda.is_available() is False")

    rows, bw = bench(args.size, args.tensors, device, args.repeats)
    print(f"device {device}, {args.size} parameters in {args.tensors} tensors, float32")
    print(f"bandwidth (in-place add): {bw / 1e9:.1f} GB/s, median of {args.repeats}")
    print(f"{'method':<14} {'bytes/param':>11} {'ms/step':>9} {'predicted':>9} {'of limit':>8}")
    for r in rows:
        print(
            f"{r['method']:<14} {r['bytes']:>11d} {r['ms']:>9.3f} "
            f"{r['predicted_ms']:>9.3f} {r['fraction']:>8.0%}"
        )


if __name__ == "__main__":
    main()
