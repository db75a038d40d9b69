"""ScratchSGD (chapter 06) against torch.optim.SGD(foreach=False), bit for bit.

`sgd_step` and `ScratchSGD` are taken from the notebook itself, so the notebook
stays the single source of the code the book teaches.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import exec_cells
from hypothesis import given, settings
from hypothesis import strategies as st

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_sgd_from_scratch.ipynb"
MARKERS = ("def sgd_step(", "def check_sgd_arguments(", "class ScratchSGD(")


NS = exec_cells(NOTEBOOK, MARKERS, {"torch": torch})
ScratchSGD = NS["ScratchSGD"]


def compare(
    cls: type,
    dtype: torch.dtype,
    shapes: list[tuple[int, ...]],
    n_groups: int,
    lrs: list[float],
    options: dict[str, Any],
    steps: int,
    seed: int,
    none_grads: bool = True,
) -> bool:
    """Run cls (ScratchSGD or a variant) and torch.optim.SGD(foreach=False) side by side.

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

    opt_a = cls(groups(ours), **options)
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


# One random run of compare(): every argument but the class, drawn together.
runs = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from([torch.float32, torch.float64]),
        "shapes": st.lists(shape, min_size=1, max_size=4),
        "n_groups": st.integers(1, 3),
        "lrs": st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=3, max_size=3),
        "options": sgd_options(),
        "steps": st.integers(1, 8),
        "seed": st.integers(0, 2**16),
    }
)


@settings(deadline=None, max_examples=300, derandomize=True, database=None)
@given(run=runs)
def test_bitwise_equal_to_torch_sgd(run: dict[str, Any]) -> None:
    assert compare(ScratchSGD, **run)


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


class BufferFromZeroSGD(ScratchSGD):  # type: ignore[misc, valid-type]
    """The notebook's class with a classic bug: every buffer starts at zero, so the
    first step is damped too (the notebook's Pitfalls show the same subclass)."""

    def momentum_buffers(self, params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.state[p].get("momentum_buffer", torch.zeros_like(p)) for p in params]


def test_the_comparison_catches_a_wrong_first_step() -> None:
    run: dict[str, Any] = dict(
        dtype=torch.float32, shapes=[(3,), (2, 2)], n_groups=2, lrs=[0.1, 0.05, 0.0], steps=3
    )
    run["options"] = dict(momentum=0.9, dampening=0.5, nesterov=False, weight_decay=0.0)
    run["options"]["maximize"] = False
    assert compare(ScratchSGD, seed=0, **run)
    assert not compare(BufferFromZeroSGD, seed=0, **run)


# Every input torch.optim.SGD refuses, and ScratchSGD must refuse the same way: the same
# exception type and the same message (or the same warnings). The checks come from
# torch 2.13's torch/optim/sgd.py (SGD.__init__, _fused_sgd) and torch/optim/optimizer.py
# (Optimizer.__init__, add_param_group, load_state_dict); ScratchSGD repeats the first and
# inherits the second. Each case builds fresh inputs for each class.


def param(n: int = 2) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.zeros(n))


def two_groups(cls: type) -> Any:
    return cls([{"params": [param()]}, {"params": [param()]}], lr=0.1)


def load_other_sized(cls: type) -> None:
    opt = cls([param(), param()], lr=0.1, momentum=0.9)
    opt.load_state_dict(cls([param()], lr=0.1, momentum=0.9).state_dict())


def sparse_grad_with_weight_decay(cls: type) -> None:
    p = param(3)
    indices, values = torch.tensor([[1]]), torch.tensor([1.0])
    p.grad = torch.sparse_coo_tensor(indices, values, (3,), check_invariants=True)
    cls([p], lr=0.1, weight_decay=0.01).step()


def same_param_twice(cls: type) -> None:
    p = param()
    cls([{"params": [p]}, {"params": [p]}], lr=0.1)


def add_group_again(cls: type) -> None:
    p = param()
    cls([p], lr=0.1).add_param_group({"params": [p]})


REFUSED: dict[str, Any] = {
    # SGD.__init__'s own checks, in torch's order
    "lr < 0": lambda cls: cls([param()], lr=-0.1),
    "momentum < 0": lambda cls: cls([param()], lr=0.1, momentum=-0.5),
    "weight_decay < 0": lambda cls: cls([param()], lr=0.1, weight_decay=-1e-4),
    "nesterov, no momentum": lambda cls: cls([param()], lr=0.1, nesterov=True),
    "nesterov, dampening": lambda cls: cls(
        [param()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True
    ),
    "tensor lr, 2 elements": lambda cls: cls([param()], lr=torch.tensor([0.1, 0.2])),
    "tensor lr, 0 elements": lambda cls: cls([param()], lr=torch.tensor([])),
    "tensor lr < 0": lambda cls: cls([param()], lr=torch.tensor(-0.1)),
    "tensor lr [-0.1]": lambda cls: cls([param()], lr=torch.tensor([-0.1])),
    "tensor weight_decay < 0": lambda cls: cls([param()], lr=0.1, weight_decay=torch.tensor(-1.0)),
    "tensor momentum, 2 elements": lambda cls: cls([param()], lr=0.1, momentum=torch.ones(2)),
    "lr is a string": lambda cls: cls([param()], lr="0.1"),
    "lr is None": lambda cls: cls([param()], lr=None),
    # the order of the checks: hyperparameters first, then the parameters
    "lr < 0 and nesterov": lambda cls: cls([param()], lr=-0.1, nesterov=True),
    "momentum < 0 and nesterov": lambda cls: cls([param()], lr=0.1, momentum=-1, nesterov=True),
    "lr < 0 and empty params": lambda cls: cls([], lr=-0.1),
    # Optimizer.__init__ and add_param_group
    "empty params": lambda cls: cls([], lr=0.1),
    "empty iterator": lambda cls: cls(iter([]), lr=0.1),
    "params is a tensor": lambda cls: cls(param(), lr=0.1),
    "group params is a set": lambda cls: cls([{"params": {param()}}], lr=0.1),
    "a param is a float": lambda cls: cls([1.0], lr=0.1),
    "a param is a non-leaf": lambda cls: cls([param() * 2], lr=0.1),
    "group without params": lambda cls: cls([{"lr": 0.1}], lr=0.1),
    "second group not a dict": lambda cls: cls([{"params": [param()]}, param()], lr=0.1),
    "some params unnamed": lambda cls: cls([("w", param()), param()], lr=0.1),
    "named and unnamed groups": lambda cls: cls(
        [{"params": [("w", param())]}, {"params": [param()]}], lr=0.1
    ),
    "param in two groups": same_param_twice,
    "add_param_group(list)": lambda cls: cls([param()], lr=0.1).add_param_group([param()]),
    "add_param_group, param already in": add_group_again,
    # Optimizer.load_state_dict
    "load: other number of groups": lambda cls: two_groups(cls).load_state_dict(
        cls([param()], lr=0.1).state_dict()
    ),
    "load: other group size": load_other_sized,
    # step(): the single-tensor path cannot add a dense weight decay to a sparse gradient
    "sparse grad + weight_decay": sparse_grad_with_weight_decay,
}

# Inputs torch accepts with a warning: ScratchSGD must warn with the same words.
WARNED: dict[str, Any] = {
    "duplicate param in a group": lambda cls: (lambda p: cls([p, p], lr=0.1))(param()),
}


def outcome(case: Any, cls: type) -> tuple[str, str, tuple[str, ...]]:
    """What case(cls) does: (exception type or "ok", message, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case(cls)
            result = ("ok", "")
        except Exception as err:  # the type is part of what we compare
            result = (type(err).__name__, str(err))
    return (*result, tuple(str(w.message) for w in caught))


@pytest.mark.parametrize("name", REFUSED)
def test_refuses_bad_input_like_torch(name: str) -> None:
    theirs = outcome(REFUSED[name], torch.optim.SGD)
    assert theirs[0] != "ok", f"torch.optim.SGD accepts {name!r}: not a bad input"
    assert outcome(REFUSED[name], ScratchSGD) == theirs


@pytest.mark.parametrize("name", WARNED)
def test_warns_like_torch(name: str) -> None:
    theirs = outcome(WARNED[name], torch.optim.SGD)
    assert theirs[0] == "ok" and theirs[2], f"torch.optim.SGD does not warn for {name!r}"
    assert outcome(WARNED[name], ScratchSGD) == theirs


@pytest.mark.parametrize("option", ["foreach", "fused", "differentiable"])
def test_torch_only_options_are_refused(option: str) -> None:
    """ScratchSGD has no foreach/fused/differentiable: it refuses them outright."""
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{option}'"):
        ScratchSGD([param()], lr=0.1, **{option: True})


LRS = [-0.1, 0.0, 0.1, float("nan")]
TENSOR_LRS = [(), (1,), (2,), (0,)]  # shapes of a tensor lr
PARAMS = {
    "list": lambda: [param()],
    "groups": lambda: [{"params": [param()], "momentum": 0.5}, {"params": [param()]}],
    "empty": lambda: [],
    "tensor": lambda: param(),
    "non-leaf": lambda: [param() * 2],
}


@settings(deadline=None, max_examples=300, derandomize=True, database=None)
@given(
    lr=st.one_of(st.sampled_from(LRS), st.sampled_from(TENSOR_LRS)),
    lr_sign=st.sampled_from([1.0, -1.0]),
    momentum=st.sampled_from([-0.5, 0.0, 0.9]),
    dampening=st.sampled_from([-1.0, 0.0, 0.5]),
    weight_decay=st.sampled_from([-1e-4, 0.0, 1e-2]),
    nesterov=st.booleans(),
    maximize=st.booleans(),
    params=st.sampled_from(sorted(PARAMS)),
)
def test_any_arguments_same_outcome_as_torch(
    lr: float | tuple[int, ...],
    lr_sign: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
    params: str,
) -> None:
    """Random mixes of good and bad arguments: accepted or refused alike, same message."""

    def case(cls: type) -> None:
        lr_value = lr if isinstance(lr, float) else torch.full(lr, lr_sign * 0.1)
        opt = cls(
            PARAMS[params](),
            lr=lr_value,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        for group in opt.param_groups:  # the accepted options are stored alike
            for p in group["params"]:
                p.grad = torch.ones_like(p)
        opt.step()

    ours, theirs = outcome(case, ScratchSGD), outcome(case, torch.optim.SGD)
    assert ours == theirs
