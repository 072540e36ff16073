"""Bad-input cases of the command line: for every option of every command, misuses that must be answered
with one line on stderr and exit code 2 (before any training starts).

Paths in the cases: ``{ring}`` and ``{digits}`` are tiny saved 2-D and digits DDPMs, ``{gan}`` a tiny GAN,
``{corrupt}`` a damaged copy, ``{text}`` a text file, ``{dir}`` a folder, ``{missing}`` a path that does not
exist and ``{empty}`` an empty folder (nothing to resume).
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
from pathlib import Path

import pytest

CASES: dict[str, list[str]] = {}


def _train(model: str, *extra: str) -> list[str]:
    return ["train", model, "--quick", "--epochs", "1", "--no-progress", "--out", "run", *extra]


BAD_ARGUMENTS: dict[str, list[list[str]]] = {
    "train model": [["train", "nope", "--out", "run"], ["train", "--out", "run"]],
    "train --data": [_train("gan", "--data", "nope"), _train("vae", "--data", "ring"), _train("gan", "--data", "")],
    "train --out": [["train", "gan", "--quick"], _train("gan", "--out", "{text}")],
    "train --epochs": [_train("gan", "--epochs", "0"), _train("gan", "--epochs", "-3"), _train("gan", "--epochs", "x")],
    "train --seed": [_train("gan", "--seed", "-1"), _train("gan", "--seed", "1.5")],
    "train --resume": [
        _train("gan", "--resume", "--out", "{empty}"),
        ["train", "ddpm", "--resume", "--seed", "3", "--out", "{dir}"],
        _train("gan", "--resume", "--out", "{dir}"),
        _train("ddpm", "--data", "ring", "--resume", "--lr", "0.1", "--out", "{dir}"),
    ],
    "train --quick": [["train", "gan", "--quick=yes", "--out", "run"]],
    "train --lr": [_train("gan", "--lr", v) for v in ("0", "-1", "nan", "inf", "abc")],
    "train --batch-size": [_train("gan", "--batch-size", v) for v in ("0", "-5", "2.5")],
    "train --patience": [_train("gan", "--patience", "-1")],
    "train --objective": [_train("vae", "--objective", "nope"), _train("gan", "--objective", "iwae")],
    "train --k": [_train("vae", "--objective", "iwae", "--k", v) for v in ("0", "-2")],
    "train --latent-dim": [_train("vae", "--latent-dim", v) for v in ("0", "-1")],
    "train --likelihood": [_train("vae", "--likelihood", "nope"), _train("ddpm", "--likelihood", "bernoulli")],
    "train --architecture": [
        _train("vae", "--architecture", "nope"),
        _train("vae", "--architecture", "unet"),
        _train("ddpm", "--data", "ring", "--architecture", "unet"),
    ],
    "train --loss": [_train("gan", "--loss", "nope"), _train("vae", "--loss", "minimax")],
    "train --pack": [_train("gan", "--pack", v) for v in ("0", "-1")],
    "train --d-steps": [_train("gan", "--d-steps", v) for v in ("0", "-1")],
    "train --gradient-penalty": [_train("gan", "--gradient-penalty", v) for v in ("-1", "nan", "inf")],
    "train --schedule": [_train("ddpm", "--schedule", "nope"), _train("gan", "--schedule", "cosine")],
    "train --timesteps": [_train("ddpm", "--timesteps", v) for v in ("0", "-5")],
    "train --conditional": [_train("gan", "--conditional"), _train("ddpm", "--data", "ring", "--conditional")],
    "train --no-progress": [["train", "gan", "--no-progress=1", "--out", "run"]],
    "sample checkpoint": [["sample", p, "--out", "s.npz"] for p in ("{missing}", "{corrupt}", "{text}", "{dir}")],
    "sample --n": [["sample", "{ring}", "--out", "s.npz", "--n", v] for v in ("0", "-1", "x")],
    "sample --out": [["sample", "{ring}", "--out", "s.txt"], ["sample", "{ring}"]],
    "sample --seed": [["sample", "{ring}", "--out", "s.npz", "--seed", "-1"]],
    "sample --mean": [
        ["sample", "{ring}", "--out", "s.npz", "--mean"],
        ["sample", "{gan}", "--out", "s.npz", "--mean"],
    ],
    "sample --sampler": [
        ["sample", "{ring}", "--out", "s.npz", "--sampler", "nope"],
        ["sample", "{gan}", "--out", "s.npz", "--sampler", "ddim"],
    ],
    "sample --steps": [
        ["sample", "{ring}", "--out", "s.npz", "--sampler", "ddim", "--steps", v] for v in ("0", "99999")
    ]
    + [["sample", "{ring}", "--out", "s.npz", "--steps", "5"]],
    "sample --eta": [["sample", "{ring}", "--out", "s.npz", "--sampler", "ddim", "--eta", v] for v in ("-1", "nan")],
    "sample --label": [["sample", "{ring}", "--out", "s.npz", "--label", "3"]],
    "sample --guidance": [["sample", "{ring}", "--out", "s.npz", "--guidance", "2"]],
    "restore checkpoint": [
        ["restore", p, "--task", "inpaint", "--out", "r.npz"] for p in ("{missing}", "{corrupt}", "{ring}", "{gan}")
    ],
    "restore --task": [
        ["restore", "{digits}", "--task", "nope", "--out", "r.npz"],
        ["restore", "{digits}", "--out", "r.npz"],
    ],
    "restore --n": [
        ["restore", "{digits}", "--task", "inpaint", "--out", "r.npz", "--n", v] for v in ("0", "448", "x")
    ],
    "restore --out": [["restore", "{digits}", "--task", "inpaint", "--out", "r.txt"]],
    "restore --method": [
        ["restore", "{digits}", "--task", "inpaint", "--out", "r.npz", "--method", "nope"],
        ["restore", "{digits}", "--task", "superres", "--out", "r.npz", "--method", "repaint"],
    ],
    "restore --seed": [["restore", "{digits}", "--task", "inpaint", "--out", "r.npz", "--seed", "-1"]],
    "evaluate checkpoint": [["evaluate", p] for p in ("{missing}", "{corrupt}", "{text}", "{dir}")],
    "evaluate --json": [["evaluate", "{ring}", "--json=1"]],
    "evaluate --k": [["evaluate", "{ring}", "--k", v] for v in ("0", "1000000", "x")],
    "evaluate --seed": [["evaluate", "{ring}", "--seed", "-1"]],
    "tour --out": [["tour", "--quick", "--sections", "rejection", "--out", "{text}"]],
    "tour --quick": [["tour", "--quick", "--full"], ["tour", "--quick=yes"]],
    "tour --full": [["tour", "--full", "--quick"], ["tour", "--full=1"]],
    "tour --sections": [["tour", "--sections", v] for v in ("nope", "", "gan,nope", "sec9")],
}
EXEMPT_OPTIONS = {
    "--version": "prints the version; takes no value",
}


def enumerate_options() -> list[str]:
    """'COMMAND OPTION' for every option and positional argument of every command (help excluded)."""
    from scratchgen.cli import build_parser

    parser = build_parser()
    options = [
        a.option_strings[0]
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                for a in sub._actions:
                    if isinstance(a, argparse._HelpAction):
                        continue
                    options.append(f"{command} {a.option_strings[0] if a.option_strings else a.dest}")
    return options


def cases():
    return [
        pytest.param(option, argv, id=f"{option}:{' '.join(argv)}")
        for option, argvs in BAD_ARGUMENTS.items()
        for argv in argvs
    ]


@functools.cache
def _files() -> dict[str, str]:
    """The saved models and broken files the cases refer to, made once."""
    from dataclasses import asdict

    from scratchgen.models import DDPMConfig, GANConfig, build_model
    from scratchgen.training import CHECKPOINT_NAME, TrainConfig, Trainer, write_checkpoint

    root = Path(tempfile.mkdtemp(prefix="scratchgen_cli_bad_input_"))
    tiny = {"timesteps": 20, "hidden": (16, 16), "time_dim": 16}
    ring = build_model(asdict(DDPMConfig(data="ring", **tiny)))
    write_checkpoint(root / "ring.npz", ring, kind="model", data={"name": "ring"})
    digits = build_model(asdict(DDPMConfig(data="digits", **tiny)))
    write_checkpoint(root / "digits.npz", digits, kind="model", data={"name": "digits"})
    gan = build_model(asdict(GANConfig(data="ring", generator_hidden=(8,), discriminator_hidden=(8,))))
    write_checkpoint(root / "gan.npz", gan, kind="model", data={"name": "ring"})
    raw = (root / "ring.npz").read_bytes()
    (root / "corrupt.npz").write_bytes(raw[: len(raw) // 2] + bytes(100) + raw[len(raw) // 2 + 100 :])
    (root / "text.npz").write_text("not a checkpoint\n")
    (root / "folder").mkdir()
    (root / "empty").mkdir()
    # a run folder holding a ddpm's checkpoint on the ring, for the resume cases
    (root / "run").mkdir()
    import numpy as np

    points = np.random.default_rng(0).normal(size=(64, 2))
    trainer = Trainer(
        build_model(asdict(DDPMConfig(data="ring", **tiny))),
        points,
        points,
        TrainConfig(epochs=1, batch_size=64),
        out_dir=root / "run",
        data_info={"name": "ring"},
        progress=False,
    )
    trainer.fit()
    assert (root / "run" / CHECKPOINT_NAME).is_file()
    return {
        "ring": str(root / "ring.npz"),
        "digits": str(root / "digits.npz"),
        "gan": str(root / "gan.npz"),
        "corrupt": str(root / "corrupt.npz"),
        "text": str(root / "text.npz"),
        "dir": str(root / "run"),
        "missing": str(root / "missing.npz"),
        "empty": str(root / "empty"),
        "root": str(root),
    }


def expand(argv: list[str], tmp_path: Path) -> list[str]:
    """The case's argv with the placeholders filled in; ``{dir}`` becomes a fresh copy of the run folder (a
    case that wrongly resumed would otherwise change it for the next)."""
    files = dict(_files())
    if any("{dir}" in a for a in argv):
        files["dir"] = str(shutil.copytree(files["dir"], tmp_path / "resumable"))
    out = []
    for a in argv:
        for key, value in files.items():
            a = a.replace("{" + key + "}", value)
        out.append(a)
    return out
