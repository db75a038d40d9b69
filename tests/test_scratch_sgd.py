"""ScratchSGD (chapter 05) against torch.optim.SGD(foreach=False), bit for bit.

`sgd_step` and `ScratchSGD` are taken from the notebook itself, so the notebook
stays the single source of the code the book teaches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_sgd_from_scratch.ipynb"
MARKERS = ("def sgd_step(", "class ScratchSGD(", "ScratchSGD.step = step")


def load_namespace() -> dict[str, Any]:
    """Exec the notebook cells that define sgd_step and ScratchSGD into a namespace."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    ns: dict[str, Any] = {"torch": torch}
    found = []
    for cell in nb["cells"]:
        src = cell["source"]
        src = "".join(src) if isinstance(src, list) else src
        if cell["cell_type"] == "code" and any(m in src for m in MARKERS):
            exec(compile(src, f"{NOTEBOOK.name}", "exec"), ns)
            found.append(src)
    assert len(found) == 3, "expected the sgd_step, ScratchSGD and step cells"
    return ns


NS = load_namespace()
ScratchSGD = NS["ScratchSGD"]


def compare(
    ns: dict[str, Any],
    *,
    dtype: torch.dtype,
    shapes: list[tuple[int, ...]],
    n_groups: int,
    lrs: list[float],
    options: dict[str, Any],
    steps: int,
    seed: int,
    none_grads: bool = True,
) -> bool:
    """Run ns["ScratchSGD"] and torch.optim.SGD(foreach=False) side by side.

    Returns True when parameters and momentum buffers are bitwise equal after every step.
    """
    gen = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    ours = [torch.nn.Parameter(t.clone()) for t in init]
    theirs = [torch.nn.Parameter(t.clone()) for t in init]

    def groups(params: list[torch.nn.Parameter]) -> list[dict[str, Any]]:
        return [
            {"params": params[g::n_groups], "lr": lrs[g]}
            for g in range(n_groups)
            if params[g::n_groups]
        ]

    opt_a = ns["ScratchSGD"](groups(ours), **options)
    opt_b = torch.optim.SGD(groups(theirs), foreach=False, **options)
    for t in range(steps):
        if t == steps // 2:  # a learning-rate change halfway
            for opt in (opt_a, opt_b):
                for group in opt.param_groups:
                    group["lr"] *= 0.5
        opt_a.zero_grad()
        opt_b.zero_grad()
        for pa, pb in zip(ours, theirs):
            grad = torch.randn(pa.shape, generator=gen, dtype=dtype)
            skip = none_grads and bool(torch.rand((), generator=gen) < 0.2)
            if not skip:  # sometimes a parameter has no gradient this step
                pa.grad, pb.grad = grad.clone(), grad.clone()
        opt_a.step()
        opt_b.step()
        for pa, pb in zip(ours, theirs):
            if not torch.equal(pa, pb):
                return False
            buf_a = opt_a.state.get(pa, {}).get("momentum_buffer")
            buf_b = opt_b.state.get(pb, {}).get("momentum_buffer")
            if (buf_a is None) != (buf_b is None):
                return False
            if buf_a is not None and not torch.equal(buf_a, buf_b):
                return False
    return True


shape = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def sgd_options(draw: st.DrawFn) -> dict[str, Any]:
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99]))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    return {
        "momentum": momentum,
        "dampening": dampening,
        "nesterov": nesterov,
        "weight_decay": draw(st.sampled_from([0.0, 1e-4, 1e-2, 0.5])),
        "maximize": draw(st.booleans()),
    }


@settings(deadline=None, max_examples=300, derandomize=True, database=None)
@given(
    dtype=st.sampled_from([torch.float32, torch.float64]),
    shapes=st.lists(shape, min_size=1, max_size=4),
    n_groups=st.integers(1, 3),
    lrs=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=3, max_size=3),
    options=sgd_options(),
    steps=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_bitwise_equal_to_torch_sgd(
    dtype: torch.dtype,
    shapes: list[tuple[int, ...]],
    n_groups: int,
    lrs: list[float],
    options: dict[str, Any],
    steps: int,
    seed: int,
) -> None:
    assert compare(
        NS,
        dtype=dtype,
        shapes=shapes,
        n_groups=n_groups,
        lrs=lrs,
        options=options,
        steps=steps,
        seed=seed,
    )


def test_closure_loss_is_returned() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = ScratchSGD([p], lr=0.1)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert torch.equal(p.detach(), torch.full((3,), 0.8))


def mutant_namespace() -> dict[str, Any]:
    """The notebook's code with a classic bug: dampening applied on the first step."""
    ns = load_namespace()
    correct = ns["sgd_step"]

    def sgd_step(params: list, grads: list, momentum_buffers: list, **kw: Any) -> None:
        for i, p in enumerate(params):
            if kw["momentum"] != 0 and momentum_buffers[i] is None:
                momentum_buffers[i] = torch.zeros_like(p)  # buffer from zero
        correct(params, grads, momentum_buffers, **kw)

    ns["sgd_step"] = sgd_step  # ScratchSGD.step looks sgd_step up in ns
    return ns


def test_the_comparison_catches_a_wrong_first_step() -> None:
    kwargs = dict(dtype=torch.float32, shapes=[(3,), (2, 2)], n_groups=2, lrs=[0.1, 0.05, 0.0])
    options = {"momentum": 0.9, "dampening": 0.5, "nesterov": False}
    options.update(weight_decay=0.0, maximize=False)
    assert compare(NS, options=options, steps=3, seed=0, **kwargs)
    assert not compare(mutant_namespace(), options=options, steps=3, seed=0, **kwargs)


BAD_INPUTS = [
    {"lr": -0.1},
    {"lr": 0.1, "momentum": -0.5},
    {"lr": 0.1, "weight_decay": -1e-4},
    {"lr": 0.1, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
    {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "nesterov": True},
]


@pytest.mark.parametrize("kwargs", BAD_INPUTS, ids=str)
def test_bad_input_same_message_as_torch(kwargs: dict[str, Any]) -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError) as torch_error:
        torch.optim.SGD([p], **kwargs)
    message = str(torch_error.value)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$") as ours:
        ScratchSGD([p], **kwargs)
    assert str(ours.value) == message
