"""Run the book's GPU paths with their assertions, and write a report.

    python scripts/gpu_check.py --out gpu-report          # or: make gpu-check

The stored outputs of the notebooks come from a CPU, and `make test` checks them
there. This script checks what only a GPU can show: every chapter executed on the
device (each picks CUDA itself, so every `.to(device)` path runs, with the
chapters' own assertions), mixed precision (autocast + GradScaler) with each
implementation of `torch.optim.SGD`, the bitwise claims on the device,
`scripts/bench_sgd_step.py --device cuda` (chapter 8's CUDA timing), and chapter
9's training script on its NCCL branch.

It writes OUT/report.json (the facts: device, versions, date, each step with its
claim, status, measurements) and OUT/report.md (a table generated from the JSON;
`--page PATH` also writes it as a book page). A step is "passed", "failed: why",
or "skipped: no CUDA device". On a machine without CUDA it runs what it can (the
CPU facts the GPU steps are compared with) and skips the rest: it never invents a
number. Exit status: 0 unless a step failed; 2 for bad arguments. Budget: a few
minutes on one modern GPU (each notebook is capped at --notebook-timeout seconds).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NO_CUDA = "skipped: no CUDA device"
# The three implementations of torch.optim.SGD's step, as the steps below name them.
IMPLEMENTATIONS = {
    "foreach=False": {"foreach": False},
    "foreach=True": {"foreach": True},
    "fused=True": {"fused": True},
}
STEPS: list[tuple[str, str, bool, Callable[[argparse.Namespace], dict]]] = []


def step(name: str, claim: str, needs_cuda: bool):
    """Register a check: `fn(args)` returns its measurements, or raises if a claim fails."""

    def register(fn: Callable[[argparse.Namespace], dict]):
        STEPS.append((name, claim, needs_cuda, fn))
        return fn

    return register


def cuda() -> torch.device:
    return torch.device("cuda")


# --- mixed precision --------------------------------------------------------------


def first_step_overflow(device: torch.device, **impl) -> dict:
    """SGD(momentum) under GradScaler whose FIRST step overflows, then two good steps.

    Returns the largest |weight| afterwards and whether it matches foreach=False
    (the single-tensor path, which handles a skipped first step correctly).
    """

    def run(**options):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(64, 64, device=device) * 0.1)
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, **options)
        scaler = torch.amp.GradScaler(device.type, init_scale=2.0**16)
        for t in range(3):
            opt.zero_grad()
            scale = 1e38 if t == 0 else 1.0  # step 1's gradient overflows once scaled
            scaler.scale((w * w).sum() * scale).backward()
            scaler.step(opt)
            scaler.update()
        return w.detach()

    reference = run(foreach=False)
    got = run(**impl)
    return {
        "largest |w|": float(got.abs().max()),
        "equal to foreach=False": bool(torch.allclose(got, reference, rtol=1e-5, atol=1e-6)),
    }


@step(
    "fused SGD + GradScaler, first step overflows (CPU)",
    "reports whether the installed torch corrupts momentum buffers when the first step "
    "is skipped (chapter 7); foreach=True must match foreach=False",
    needs_cuda=False,
)
def amp_bug_cpu(args) -> dict:
    cpu = torch.device("cpu")
    foreach = first_step_overflow(cpu, foreach=True)
    assert foreach["equal to foreach=False"], foreach
    fused = first_step_overflow(cpu, fused=True)
    return {"foreach=True correct": True, "fused=True correct": fused["equal to foreach=False"]}


@step(
    "fused SGD + GradScaler, first step overflows (CUDA)",
    "the same fact on the GPU, where fused=True is what the recipes use",
    needs_cuda=True,
)
def amp_bug_cuda(args) -> dict:
    foreach = first_step_overflow(cuda(), foreach=True)
    assert foreach["equal to foreach=False"], foreach
    fused = first_step_overflow(cuda(), fused=True)
    return {"foreach=True correct": True, "fused=True correct": fused["equal to foreach=False"]}


@step(
    "autocast(float16) + GradScaler training",
    "a small MLP trained with autocast and GradScaler lowers its loss with foreach=False, "
    "foreach=True and fused=True, and the three stay within float16 rounding of each other",
    needs_cuda=True,
)
def amp_training(args) -> dict:
    device = cuda()
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2048, 64, generator=g).to(device)
    y = (X[:, :8].sum(1) > 0).long()
    losses = {}
    for name, options in IMPLEMENTATIONS.items():
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 2)
        ).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, **options)
        scaler = torch.amp.GradScaler("cuda")
        first = None
        for t in range(200):
            xb, yb = X[(t * 128) % 2048 :][:128], y[(t * 128) % 2048 :][:128]
            opt.zero_grad()
            with torch.autocast("cuda", dtype=torch.float16):
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            first = float(loss) if first is None else first
        losses[name] = float(loss)
        assert losses[name] < 0.5 * first, (name, first, losses[name])
    spread = max(losses.values()) - min(losses.values())
    assert spread < 0.05, losses
    return {f"final loss, {k}": round(v, 4) for k, v in losses.items()}


# --- bitwise claims on the device ---------------------------------------------------


@step(
    "the update rule, bitwise on the device",
    "the book's hand-written update equals SGD(foreach=False) bitwise on CUDA; foreach=True "
    "and fused=True agree within 1e-6 (chapters 0 and 6)",
    needs_cuda=True,
)
def bitwise_on_device(args) -> dict:
    device = cuda()
    lr, momentum, dampening, wd = 0.05, 0.9, 0.1, 1e-3
    torch.manual_seed(0)
    theta0 = torch.randn(1000, device=device)
    grads = [torch.randn(1000, device=device) for _ in range(5)]
    results = {}
    for name, options in IMPLEMENTATIONS.items():
        p = torch.nn.Parameter(theta0.clone())
        opt = torch.optim.SGD(
            [p], lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd, **options
        )
        for g in grads:
            p.grad = g.clone()
            opt.step()
        results[name] = p.detach().clone()
    theta, buf = theta0.clone(), None
    for g in grads:
        g = g.add(theta, alpha=wd)
        buf = g.clone() if buf is None else buf.mul_(momentum).add_(g, alpha=1 - dampening)
        theta = theta.add(buf, alpha=-lr)
    assert torch.equal(theta, results["foreach=False"])
    for name in ("foreach=True", "fused=True"):
        torch.testing.assert_close(results[name], theta, rtol=1e-6, atol=1e-6)
    return {"bitwise equal (foreach=False)": True, "within 1e-6 (foreach, fused)": True}


@step(
    "the implementation a fresh SGD picks on CUDA",
    "a fresh SGD on CUDA tensors runs _multi_tensor_sgd (foreach); one loaded from a "
    "state_dict without the foreach/fused keys runs _single_tensor_sgd (chapter 6)",
    needs_cuda=True,
)
def default_implementation(args) -> dict:
    import torch.optim.sgd as sgd_module

    used = []
    originals = {n: getattr(sgd_module, n) for n in ("_single_tensor_sgd", "_multi_tensor_sgd")}

    def spy(name):
        def wrapper(*a, **k):
            used.append(name)
            return originals[name](*a, **k)

        return wrapper

    p = torch.nn.Parameter(torch.randn(10, device=cuda()))
    p.grad = torch.ones_like(p)
    try:
        for name in originals:
            setattr(sgd_module, name, spy(name))
        fresh = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        fresh.step()
        state = fresh.state_dict()
        for group in state["param_groups"]:
            group.pop("foreach", None)
            group.pop("fused", None)
        loaded = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        loaded.load_state_dict(state)
        loaded.step()
    finally:
        for name, fn in originals.items():
            setattr(sgd_module, name, fn)
    assert used == ["_multi_tensor_sgd", "_single_tensor_sgd"], used
    return {"fresh": used[0], "loaded without the keys": used[1]}


@step(
    "foreach + Nesterov leaves p.grad alone?",
    "reports whether SGD(foreach=True, nesterov=True) overwrites p.grad on CUDA (chapter 7); "
    "foreach=False must leave it unchanged",
    needs_cuda=True,
)
def nesterov_grad(args) -> dict:
    out = {}
    for name in ("foreach=False", "foreach=True"):
        options = IMPLEMENTATIONS[name]
        p = torch.nn.Parameter(torch.ones(10, device=cuda()))
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, **options)
        for _ in range(2):
            p.grad = torch.ones_like(p)
            opt.step()
        out[f"p.grad unchanged, {name}"] = bool(torch.equal(p.grad, torch.ones_like(p)))
    assert out["p.grad unchanged, foreach=False"], out
    return out


# --- timing, chapters, NCCL -----------------------------------------------------------


@step(
    "the optimizer step's cost on the GPU (scripts/bench_sgd_step.py --device cuda)",
    "the benchmark runs on CUDA and times every method (chapter 8)",
    needs_cuda=True,
)
def bench_cuda(args) -> dict:
    command = [sys.executable, str(ROOT / "scripts" / "bench_sgd_step.py"), "--device", "cuda"]
    job = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stderr[-2000:]
    return {"table": job.stdout.strip()}


def notebook_step(path: Path):
    @step(
        f"notebook {path.stem} on the GPU",
        "the chapter runs top to bottom on the device with all its assertions",
        needs_cuda=True,
    )
    def run_notebook(args) -> dict:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as tmp:
            client = NotebookClient(
                nb,
                timeout=args.notebook_timeout,
                kernel_name="python3",
                resources={"metadata": {"path": tmp}},
            )
            t0 = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - t0
        devices = [
            o.get("text", "")
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "Using device" in o.get("text", "")
        ]
        return {"seconds": round(seconds, 1), "device line": "".join(devices).strip()}

    return run_notebook


for _path in NOTEBOOKS:
    notebook_step(_path)


def ch11_script(directory: Path) -> Path:
    """Chapter 9's training script, taken from the notebook's %%writefile cell."""
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "09_data_parallel.ipynb", as_version=4)
    for cell in nb.cells:
        lines = cell.source.splitlines()
        magic = [i for i, line in enumerate(lines) if line.startswith("%%writefile")]
        if cell.cell_type == "code" and magic:
            path = directory / "ddp_train.py"
            path.write_text("\n".join(lines[magic[0] + 1 :]) + "\n")
            return path
    raise AssertionError("chapter 9 has no %%writefile cell")


def flatten(value, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor in nested dicts and lists, by its path ("params.0.weight")."""
    if isinstance(value, torch.Tensor):
        return {prefix: value}
    if not isinstance(value, dict | list | tuple):
        return {}
    items = value.items() if isinstance(value, dict) else enumerate(value)
    out = {}
    for key, item in items:
        out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


@step(
    "chapter 9's script on NCCL",
    "torchrun with one process per GPU takes the NCCL branch and reaches the parameters of "
    "the same run on gloo/CPU within float32 rounding (chapter 9)",
    needs_cuda=True,
)
def nccl(args) -> dict:
    nproc = torch.cuda.device_count()
    with tempfile.TemporaryDirectory() as tmp:
        script = ch11_script(Path(tmp))
        results = {}
        for name, extra in {"nccl": [], "gloo": ["--cpu"]}.items():
            out = Path(tmp) / name
            out.mkdir()
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
            command += [f"--nproc_per_node={nproc}", str(script), "--out", str(out), *extra]
            job = subprocess.run(command, capture_output=True, text=True, timeout=300)
            assert job.returncode == 0, job.stderr[-2000:]
            results[name] = torch.load(out / "rank0.pt", weights_only=True, map_location="cpu")
    nccl_run, gloo_run = flatten(results["nccl"]), flatten(results["gloo"])
    assert results["nccl"].get("backend") == "nccl", results["nccl"].get("backend")
    tensors = [k for k, v in gloo_run.items() if v.is_floating_point() and k.startswith("params")]
    assert tensors, f"no parameters in the script's results: {sorted(gloo_run)}"
    for k in tensors:
        torch.testing.assert_close(nccl_run[k], gloo_run[k], rtol=1e-3, atol=1e-4)
    return {"processes": nproc, "tensors compared": len(tensors)}


# --- the report ------------------------------------------------------------------------


def environment() -> dict:
    has_cuda = torch.cuda.is_available()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "device": torch.cuda.get_device_name(0) if has_cuda else "none (CPU only)",
        "gpus": torch.cuda.device_count() if has_cuda else 0,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if has_cuda else None,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
    }


def run_steps(args) -> dict:
    has_cuda = torch.cuda.is_available()
    results = []
    for name, claim, needs_cuda, fn in STEPS:
        if args.only and not any(s in name for s in args.only):
            continue
        entry = {"step": name, "claim": claim, "gpu": needs_cuda}
        t0 = time.perf_counter()
        if needs_cuda and not has_cuda:
            entry.update(status=NO_CUDA, measurements={})
        else:
            try:
                entry.update(status="passed", measurements=fn(args))
            except Exception as error:  # a failed claim is reported, then the next step runs
                entry.update(status=f"failed: {type(error).__name__}: {error}"[:500])
                entry["measurements"] = {}
                entry["traceback"] = traceback.format_exc()[-3000:]
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        print(f"{entry['status'][:60]:<60} {name}", flush=True)
        results.append(entry)
    return {"environment": environment(), "steps": results}


def markdown(report: dict) -> str:
    """The report as a Markdown page, generated from the JSON (never typed)."""
    env = report["environment"]
    lines = [
        "# Measured on a GPU",
        "",
        "Generated by `scripts/gpu_check.py` from `report.json`; do not edit by hand.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in env.items()],
        "",
        "| step | claim | status | measurements | time (s) |",
        "|---|---|---|---|---|",
    ]
    tables = []
    for s in report["steps"]:
        shown = {k: v for k, v in s["measurements"].items() if k != "table"}
        cells = "; ".join(f"{k}: {v}" for k, v in shown.items()) or "–"
        claim = s["claim"].replace("|", "\\|")
        lines.append(f"| {s['step']} | {claim} | {s['status']} | {cells} | {s['seconds']} |")
        if "table" in s["measurements"]:
            tables += ["", f"## {s['step']}", "", "```", s["measurements"]["table"], "```"]
    return "\n".join(lines + tables) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for report.json/.md")
    parser.add_argument("--page", type=Path, help="also write the Markdown as this book page")
    parser.add_argument("--only", nargs="*", help="run only steps whose name contains one of these")
    parser.add_argument("--notebook-timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.notebook_timeout <= 0:
        parser.error(f"--notebook-timeout must be positive, got {args.notebook_timeout}")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    report = run_steps(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "report.md").write_text(markdown(report))
    if args.page:
        args.page.write_text(markdown(report))
    failed = [s["step"] for s in report["steps"] if s["status"].startswith("failed")]
    print(f"report: {args.out / 'report.md'}; failed: {len(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
