"""Time one SGD-with-momentum step four ways and compare with the bandwidth limit.

Chapter 08 of the book ("What a step costs") explains the table this prints; it is
the chapter's main experiment, measured the same way:

    python scripts/bench_sgd_step.py                      # CPU, one thread
    python scripts/bench_sgd_step.py --device cuda --json table.json
    python scripts/bench_sgd_step.py --quick              # small and fast (tests)

Each method (a hand-written loop, torch.optim.SGD with foreach=False, foreach=True,
fused=True, all with momentum 0.9, and plain SGD with momentum 0) updates the same
parameters, split into --tensors tensors of equal size; the momentum buffers are set
up as after a first step, so no method times the first step. The methods are timed in
interleaved rounds, and two bandwidth yardsticks run in the same rounds, on arrays the
size of one tensor: in-place scale `x.mul_(a)` (read one float32 value, write one) and
in-place add `x.add_(y, alpha=a)` (read two, write one). The bandwidth W is the faster
of the two: on one core the bytes per second depend on a kernel's mix of reads and
writes, and the step's kernels have other mixes than either. Each time is the median of
the rounds (on a busy machine the fastest round favours the short yardsticks). The
predicted time is the bytes a method moves divided by W; "of limit" is predicted ÷
measured time.

On a CPU the default size puts each array at twice the last-level cache (read from
Linux's sysfs), and at least 128 MiB, in one tensor: as in the chapter, nothing one
kernel leaves in the cache survives until the next kernel reaches it. On a GPU the
default is 2**26 parameters (256 MiB per array). On a CPU the step runs on --threads
threads (default 1, as in the chapter). On a GPU each run is timed with CUDA events,
after writing a buffer (256 MiB, or twice the L2 size the GPU reports) that evicts
the previous run's data from L2; the median of the rounds is reported there too.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

BYTES_PER_FLOAT = 4
# Bytes moved per parameter, in float32 words read + written (see chapter 08):
# the loop and foreach=False/True run three in-place ops
#   buf.mul_(momentum)        read b, write b         2 words
#   buf.add_(grad)            read b, g, write b      3 words
#   param.add_(buf, -lr)      read theta, b, write    3 words
# a fused kernel reads theta, g, b once and writes theta, b once: 5 words.
# plain SGD (momentum 0) is one in-place add: read theta, g, write theta, 3 words.
WORDS = {"loop": 8, "foreach=False": 8, "foreach=True": 8, "fused=True": 5, "plain SGD": 3}
# The yardsticks' words per element: scale reads one and writes one, add reads two.
YARDSTICK_WORDS = {"scale": 2, "add": 3}
FLUSH_BYTES = 2**28  # 256 MiB, or twice the GPU's L2 cache if that is larger
MIN_CPU_SIZE = 2**25  # 128 MiB per array at least


def last_level_cache() -> int | None:
    """Bytes of CPU 0's largest data cache, from Linux's sysfs (None elsewhere)."""
    sizes = {}
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
            if (index / "type").read_text().strip() in ("Data", "Unified"):
                text = (index / "size").read_text().strip()  # e.g. "32768K"
                level = int((index / "level").read_text())
                sizes[level] = int(text.rstrip("KMG")) * units.get(text[-1], 1)
    except (OSError, ValueError):
        return None
    return sizes[max(sizes)] if sizes else None


def default_cpu_size(llc: int | None) -> int:
    """Elements per array: twice the last-level cache (in steps of 1 MiB), at least
    128 MiB; 64 MiB of cache is assumed where it is unknown."""
    llc = 64 * 2**20 if llc is None else llc
    return max(MIN_CPU_SIZE, -(-2 * llc // BYTES_PER_FLOAT // 2**20) * 2**20)


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name where the system tells it."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_timer(device: torch.device) -> Callable[[Callable[[], object]], float]:
    """A function that runs fn() once and returns its duration in seconds."""
    if device.type != "cuda":

        def cpu_time(fn: Callable[[], object]) -> float:
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0

        return cpu_time

    l2 = torch.cuda.get_device_properties(device).L2_cache_size
    flush = torch.empty(max(FLUSH_BYTES, 2 * l2), dtype=torch.uint8, device=device)

    def cuda_time(fn: Callable[[], object]) -> float:
        flush.zero_()  # evict the previous run's data from L2
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize(device)
        return start.elapsed_time(end) / 1e3

    return cuda_time


def make_steps(
    size: int, tensors: int, device: torch.device, lr: float = 0.01, momentum: float = 0.9
) -> dict[str, Callable[[], object]]:
    """One step function per method, all on the same parameters and buffers."""
    if size % tensors:
        raise ValueError(f"size {size} is not a multiple of tensors {tensors}")
    gen = torch.Generator(device=device).manual_seed(0)
    n = size // tensors
    params = [
        torch.nn.Parameter(torch.randn(n, generator=gen, device=device)) for _ in range(tensors)
    ]
    for p in params:
        p.grad = torch.randn(n, generator=gen, device=device)
    bufs = [p.grad.clone() for p in params]  # the buffers after a first step

    @torch.no_grad()
    def loop() -> None:
        for p, b in zip(params, bufs):
            b.mul_(momentum).add_(p.grad)
            p.add_(b, alpha=-lr)

    steps: dict[str, Callable[[], object]] = {"loop": loop}
    for name, kw in [
        ("foreach=False", {"foreach": False}),
        ("foreach=True", {"foreach": True}),
        ("fused=True", {"fused": True}),
    ]:
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, **kw)
        for p, b in zip(params, bufs):
            opt.state[p]["momentum_buffer"] = b
        steps[name] = opt.step
    steps["plain SGD"] = torch.optim.SGD(params, lr=lr, foreach=False).step
    return steps


def bench(size: int, tensors: int, device: torch.device, repeats: int) -> dict:
    """The table as a dict: the bandwidth and, per method, seconds (median of the
    interleaved rounds), bytes per parameter, predicted seconds and fraction."""
    if repeats < 1:
        raise ValueError(f"Invalid repeats: {repeats}")
    steps = make_steps(size, tensors, device)
    x = torch.rand(size // tensors, device=device)
    y = torch.rand(size // tensors, device=device)
    steps["scale"] = lambda: x.mul_(0.999)
    steps["add"] = lambda: x.add_(y, alpha=1e-3)
    timer = make_timer(device)
    for fn in steps.values():
        timer(fn)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for k, fn in steps.items():
            times[k].append(timer(fn))
    yardsticks = {
        k: words * BYTES_PER_FLOAT * x.numel() / statistics.median(times.pop(k))
        for k, words in YARDSTICK_WORDS.items()
    }
    bandwidth = max(yardsticks.values())
    methods = {}
    for name, ts in times.items():
        seconds = statistics.median(ts)
        predicted = WORDS[name] * BYTES_PER_FLOAT * size / bandwidth
        methods[name] = {
            "seconds": seconds,
            "bytes_per_param": WORDS[name] * BYTES_PER_FLOAT,
            "predicted_seconds": predicted,
            "fraction": predicted / seconds,
        }
    return {
        "device": str(device),
        "device_name": device_name(device),
        "size": size,
        "tensors": tensors,
        "repeats": repeats,
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "yardsticks_bytes_per_s": yardsticks,
        "bandwidth_bytes_per_s": bandwidth,
        "methods": methods,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        type=int,
        help="parameters in all (CPU default: twice the last-level cache per array; GPU: 2**26)",
    )
    parser.add_argument("--tensors", type=int, default=1, help="tensors they are split into")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved timed rounds")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--quick", action="store_true", help="small and fast (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.tensors, args.repeats = 200_000, 4, 3
    device = torch.device(args.device)
    if args.size is None:
        args.size = 2**26 if device.type == "cuda" else default_cpu_size(last_level_cache())
    if min(args.size, args.tensors, args.repeats, args.threads) < 1:
        parser.error("--size, --tensors, --repeats and --threads must be positive")
    if args.size % args.tensors:
        parser.error(f"--size {args.size} is not a multiple of --tensors {args.tensors}")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda asked for, but torch.cuda.is_available() is False")
    torch.set_num_threads(args.threads)

    table = bench(args.size, args.tensors, device, args.repeats)
    threads = f", {table['threads']} thread(s)" if table["threads"] else ""
    print(f"device {device} ({table['device_name']}){threads}")
    print(f"{args.size} parameters in {args.tensors} tensors, float32, median of {args.repeats}")
    yard = " and ".join(
        f"{k} {v / 1e9:.1f} GB/s" for k, v in table["yardsticks_bytes_per_s"].items()
    )
    print(f"bandwidth (the faster of in-place {yard}, same rounds): ", end="")
    print(f"{table['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s")
    print(f"{'method':<14} {'bytes/param':>11} {'ms/step':>9} {'predicted':>9} {'of limit':>8}")
    for name, r in table["methods"].items():
        print(
            f"{name:<14} {r['bytes_per_param']:>11d} {1e3 * r['seconds']:>9.3f} "
            f"{1e3 * r['predicted_seconds']:>9.3f} {r['fraction']:>8.0%}"
        )
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
