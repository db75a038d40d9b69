"""Chapter 10's two scripts refuse bad input, with a clear message, before any process
waits for another.

The scripts are taken from the notebook's `%%writefile` cells (the notebook stays the
single source of what the book teaches), written into tmp_path, and run as programs
with the environment `torchrun` would give them. A refusal must happen before
`init_process_group`: with no `MASTER_ADDR` in the environment, a script that got past
its checks would fail there instead, with another message.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest
import torch
from conftest import ROOT, code_cells, load, source, writefile_body, writefile_target

NOTEBOOK = ROOT / "notebooks" / "10_beyond_one_process.ipynb"
SCRIPTS = {"{train_script}": "elastic_train.py", "{inside_script}": "ddp_inside.py"}


def write_scripts(directory: Path) -> dict[str, Path]:
    """The notebook's `%%writefile` scripts, as files in `directory`."""
    found = {}
    for _, cell in code_cells(load(NOTEBOOK)):
        target = writefile_target(source(cell))
        if target in SCRIPTS:
            path = directory / SCRIPTS[target]
            path.write_text(writefile_body(source(cell)), encoding="utf-8")
            found[SCRIPTS[target]] = path
    assert sorted(found) == sorted(SCRIPTS.values()), f"scripts found: {sorted(found)}"
    return found


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_scripts(tmp_path_factory.mktemp("ch10"))


def torchrun_env(world_size: int) -> dict[str, str]:
    """What torchrun sets for rank 0, except the rendezvous address."""
    env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "MASTER_PORT")}
    return env | {
        "WORLD_SIZE": str(world_size),
        "RANK": "0",
        "LOCAL_RANK": "0",
        "LOCAL_WORLD_SIZE": str(world_size),
        "GROUP_RANK": "0",
    }


def refusal(script: Path, world_size: int | None, *args: str) -> str:
    """Run the script as __main__ in this process; return the message it stops with."""
    if world_size is None:  # not launched by torchrun
        env = {k: v for k, v in os.environ.items() if k != "WORLD_SIZE"}
    else:
        env = torchrun_env(world_size)
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(sys, "argv", [script.name, *args]),
        pytest.raises(SystemExit) as stop,
    ):
        runpy.run_path(str(script), run_name="__main__")
    return str(stop.value)


def test_train_refuses_a_batch_the_world_size_does_not_divide(scripts, tmp_path):
    args = ["--ckpt", str(tmp_path / "c.pt"), "--out", str(tmp_path)]
    message = refusal(scripts["elastic_train.py"], 3, *args)
    assert message == "error: global batch 64 is not divisible by world size 3", message


def test_train_refuses_a_batch_larger_than_the_data(scripts, tmp_path):
    args = ["--global-batch", "2048", "--ckpt", str(tmp_path / "c.pt"), "--out", str(tmp_path)]
    message = refusal(scripts["elastic_train.py"], 2, *args)
    assert message == "error: global batch 2048 exceeds the 1197 examples", message


def test_train_refuses_a_missing_checkpoint(scripts, tmp_path):
    missing = tmp_path / "missing.pt"
    args = ["--resume", str(missing), "--ckpt", str(tmp_path / "c.pt"), "--out", str(tmp_path)]
    message = refusal(scripts["elastic_train.py"], 2, *args)
    assert message == f"error: no checkpoint at {missing}", message


@pytest.mark.parametrize("how", ["--resume", "--ckpt"])
def test_train_refuses_a_checkpoint_of_another_world_size(scripts, tmp_path, how):
    """Both an explicit --resume and the automatic resume from --ckpt are checked."""
    ckpt = tmp_path / "four_ranks.pt"
    torch.save({"world_size": 4}, ckpt)
    args = [how, str(ckpt), "--out", str(tmp_path)]
    if how == "--resume":
        args += ["--ckpt", str(tmp_path / "new.pt")]
    message = refusal(scripts["elastic_train.py"], 2, *args)
    assert message == "error: bad world size 2: the checkpoint was written by 4 ranks", message


def test_train_refuses_to_run_without_torchrun(scripts, tmp_path):
    args = ["--ckpt", str(tmp_path / "c.pt"), "--out", str(tmp_path)]
    message = refusal(scripts["elastic_train.py"], None, *args)
    assert message == "error: launch with torchrun (WORLD_SIZE is not set)", message


def test_inside_refuses_a_single_rank(scripts, tmp_path):
    message = refusal(scripts["ddp_inside.py"], 1, "--out", str(tmp_path))
    assert message == "error: world size 1: these demonstrations need 2 ranks or more", message


def test_inside_refuses_a_batch_the_micro_batches_do_not_divide(scripts, tmp_path):
    message = refusal(scripts["ddp_inside.py"], 2, "--batch", "30", "--out", str(tmp_path))
    assert message == "error: local batch 30 is not divisible into 4 micro-batches", message


def module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_good_input_is_accepted(scripts, tmp_path):
    """The checks are not over-eager: the notebook's configurations pass them."""
    import argparse

    train = module(scripts["elastic_train.py"])
    ckpt = tmp_path / "two_ranks.pt"
    torch.save({"world_size": 2}, ckpt)
    for world_size, resume in [(1, None), (2, None), (4, None), (2, str(ckpt))]:
        args = argparse.Namespace(global_batch=64, resume=resume)
        train.check_args(args, world_size, resume)
    inside = module(scripts["ddp_inside.py"])
    inside.check_args(argparse.Namespace(batch=32, accum=4), 2)


def test_a_refusal_reaches_the_shell(scripts, tmp_path):
    """Run as a real program: exit status 1 and the message on stderr."""
    cmd = [sys.executable, str(scripts["elastic_train.py"])]
    cmd += ["--global-batch", "63", "--ckpt", str(tmp_path / "c.pt"), "--out", str(tmp_path)]
    proc = subprocess.run(cmd, env=torchrun_env(2), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().endswith("error: global batch 63 is not divisible by world size 2")
