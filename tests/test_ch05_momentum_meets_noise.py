"""Chapter 5's rebuilt averaging tools against PyTorch's, on more cases than the chapter shows.

`asgd_step` (the chapter's (5.8)) is taken from the notebook itself, so the notebook stays the
single source of the code it teaches, and compared with `torch.optim.ASGD(foreach=False)` bit
for bit, on float32 and float64, with every option varied (t0 small enough that the average
starts, lambd and alpha both zero and non-zero, weight decay on and off). The SWA and EMA rules
(5.9) are checked bit for bit against `AveragedModel` on the CPU, SWALR against the closed form
(5.10) for both strategies and several anneal lengths, and `update_bn` against the mean of the
per-batch statistics.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import exec_cells
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_momentum_meets_noise.ipynb"
MARKERS = ("def asgd_step(",)


NS = exec_cells(NOTEBOOK, MARKERS, {"torch": torch, "nn": nn, "math": math})
asgd_step = NS["asgd_step"]


@settings(deadline=None, max_examples=120, derandomize=True, database=None)
@given(
    dtype=st.sampled_from([torch.float32, torch.float64]),
    shapes=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), min_size=1, max_size=3),
    lr=st.sampled_from([1e-3, 0.05, 0.3, 1.0]),
    lambd=st.sampled_from([0.0, 1e-4, 0.01, 0.5]),
    alpha=st.sampled_from([0.0, 0.5, 0.75, 1.0]),
    t0=st.sampled_from([0, 1, 3, 7.5, 1e6]),
    weight_decay=st.sampled_from([0.0, 0.01, 0.3]),
    steps=st.integers(1, 15),
    seed=st.integers(0, 2**16),
)
def test_asgd_step_is_bitwise_torch_asgd(
    dtype: torch.dtype, shapes: list[tuple[int, int]], steps: int, seed: int, **hyper: Any
) -> None:
    gen = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    ours = [nn.Parameter(t.clone()) for t in init]
    theirs = [nn.Parameter(t.clone()) for t in init]
    opt = torch.optim.ASGD(theirs, foreach=False, **hyper)
    state: dict[Any, Any] = {}
    for _ in range(steps):
        for p, q in zip(ours, theirs):
            grad = torch.randn(p.shape, generator=gen, dtype=dtype)
            p.grad, q.grad = grad.clone(), grad.clone()
        opt.step()
        asgd_step(ours, state, **hyper)
        for p, q in zip(ours, theirs):
            assert torch.equal(p, q)
            assert torch.equal(state[p]["ax"], opt.state[q]["ax"])
            assert state[p]["eta"] == opt.state[q]["eta"].item()
            assert state[p]["mu"] == opt.state[q]["mu"].item()


def test_asgd_average_is_the_mean_from_step_t0_plus_2() -> None:
    """The meaning of t0 in the chapter's prose: ax_t = mean(theta_{t0+2}, ..., theta_t)."""
    theta = nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = torch.optim.ASGD([theta], lr=0.1, lambd=0.0, t0=4)
    gen = torch.Generator().manual_seed(0)
    history = []
    for _ in range(12):
        theta.grad = torch.randn(3, generator=gen, dtype=torch.float64)
        opt.step()
        history.append(theta.detach().clone())
    torch.testing.assert_close(opt.state[theta]["ax"], torch.stack(history[4 + 1 :]).mean(0))


@pytest.mark.parametrize("ema", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_averaged_model_is_the_formula(ema: bool, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).to(dtype)
    decay = 0.97
    avg = (
        AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay)) if ema else AveragedModel(net)
    )
    ours: list[torch.Tensor] = []
    with torch.no_grad():
        for n in range(9):
            for p in net.parameters():
                p.add_(torch.randn_like(p))
            current = [p.detach().clone() for p in net.parameters()]
            avg.update_parameters(net)
            if n == 0:
                ours = [c.clone() for c in current]
            elif ema:
                ours = [a.lerp(c, 1 - decay) for a, c in zip(ours, current)]
            else:
                ours = [a + (c - a) / (n + 1) for a, c in zip(ours, current)]
    for a, p in zip(ours, avg.module.parameters()):
        assert torch.equal(a, p)
    # the buffers are copied from the model, not averaged
    for b_avg, b_net in zip(avg.module.buffers(), net.buffers()):
        assert torch.equal(b_avg, b_net)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3, 10])
def test_swalr_closed_form(strategy: str, anneal_epochs: int) -> None:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.8)
    sched = SWALR(opt, swa_lr=0.02, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    for k in range(1, 15):
        opt.step()
        sched.step()
        t = min(1.0, k / max(1, anneal_epochs))
        a = (1 - math.cos(math.pi * t)) / 2 if strategy == "cos" else t
        expected = 0.02 * a + 0.8 * (1 - a)
        assert math.isclose(opt.param_groups[0]["lr"], expected, rel_tol=1e-12, abs_tol=1e-15)


def test_update_bn_is_the_mean_of_batch_statistics() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)).double()
    batches = [torch.randn(n, 6, dtype=torch.float64) for n in (8, 8, 3, 11)]
    update_bn(batches, net)
    with torch.no_grad():
        pre = [net[0](xb) for xb in batches]
    torch.testing.assert_close(net[1].running_mean, torch.stack([z.mean(0) for z in pre]).mean(0))
    torch.testing.assert_close(net[1].running_var, torch.stack([z.var(0) for z in pre]).mean(0))
    assert net[1].num_batches_tracked.item() == len(batches)
