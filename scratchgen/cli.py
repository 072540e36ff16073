"""The ``scratchgen`` command line: train a model, sample from a checkpoint, evaluate it.

    scratchgen train {vae,hvae} --data digits --out DIR [--epochs N] [--seed S] [--resume] [--quick]
    scratchgen sample CKPT --n 64 --out FILE.png|FILE.npz [--seed S] [--mean]
    scratchgen evaluate CKPT [--json] [--k 1000]

With no other flags ``train`` uses the settings behind the README's results. Misuse (a missing file, a file
that is not a checkpoint, an unknown model or data set, ``--resume`` with nothing to resume, ``--n 0``)
gets one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from scratchgen import __version__

MODELS = ("vae", "hvae")
DATA_SETS = ("digits",)


class UsageError(Exception):
    """Bad use of the command line: reported as one line and exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's two lines (usage + error) become one
        raise UsageError(f"{message} (see {self.prog} --help)")


# ----- the model settings ------------------------------------------------------------------------------
def default_settings(model: str, quick: bool = False) -> tuple[Any, Any]:
    """(model config, TrainConfig): the README's settings, or a seconds-long smoke run with ``quick``."""
    from scratchgen.models import HierarchicalVAEConfig, VAEConfig
    from scratchgen.training import TrainConfig

    if model == "vae":
        config = VAEConfig(latent_dim=16, hidden=(256, 256), dropout=0.3, input_dropout=0.2,
                           objective="iwae", iwae_k=10)
        # the EMA of the weights is worth ~0.6 nats of test NLL here (validated, selected on validation)
        train = TrainConfig(epochs=250, batch_size=128, lr=1e-3, patience=25, ema_decay=0.998)
    else:
        config = HierarchicalVAEConfig(latent_dim=16, top_latent_dim=8, hidden=(256, 256), dropout=0.3,
                                       input_dropout=0.2, objective="iwae", iwae_k=10, skip_top_down=False)
        train = TrainConfig(epochs=250, batch_size=128, lr=1e-3, patience=25, ema_decay=0.998)
    if quick:
        config = replace(config, hidden=(64,), iwae_k=2)
        train = replace(train, epochs=2, patience=0)
    return config, train


def load_data(name: str) -> dict[str, np.ndarray]:
    from scratchgen.data import N_TEST, N_TRAIN, N_VALIDATION, load_digits

    if name != "digits":
        raise UsageError(f"unknown data set {name!r} (known: {', '.join(DATA_SETS)})")
    return {split: load_digits(split)[0] for split in ("train", "validation", "test")} | {
        "info": {"name": "digits", "split": {"train": N_TRAIN, "validation": N_VALIDATION, "test": N_TEST}}}


# ----- evaluation ------------------------------------------------------------------------------------------
def evaluate_model(model: Any, test: np.ndarray, k: int = 1000, seed: int = 0) -> dict[str, float]:
    """The results-table metrics on the test split: ``test_nll`` (IWAE, k samples) and ``test_neg_elbo``
    (nats per image), with their standard errors over the test images."""
    log_p = model.log_likelihood(test, k=k, rng=seed)
    neg_elbo = model.negative_elbo(test, n_samples=10, rng=seed + 1)
    n = len(test)
    return {"test_nll": float(-log_p.mean()), "test_nll_stderr": float(log_p.std(ddof=1) / np.sqrt(n)),
            "test_neg_elbo": float(neg_elbo.mean()), "test_neg_elbo_stderr": float(neg_elbo.std(ddof=1) / np.sqrt(n)),
            "k": int(k), "n_test": int(n)}


def _print_table(metrics: dict[str, Any], stream=None) -> None:
    stream = sys.stdout if stream is None else stream  # the current stdout, not the one at import time
    width = max(len(key) for key in metrics)
    for key, value in metrics.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text}", file=stream)


# ----- commands --------------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from scratchgen.models import build_model
    from scratchgen.training import CHECKPOINT_NAME, Trainer, resume

    if args.model not in MODELS:
        raise UsageError(f"unknown model {args.model!r} (known: {', '.join(MODELS)})")
    data = load_data(args.data)
    out = Path(args.out)
    if args.resume:
        if not (out / CHECKPOINT_NAME).is_file():
            raise UsageError(f"nothing to resume: no {CHECKPOINT_NAME} in {out}")
        try:
            trainer = resume(out, data["train"], data["validation"], progress=not args.no_progress,
                             epochs=args.epochs)
        except ValueError as error:  # CheckpointError: a corrupt or foreign checkpoint.npz
            raise UsageError(str(error)) from None
        if trainer.model.config.kind != args.model:
            raise UsageError(f"{out / CHECKPOINT_NAME} holds a {trainer.model.config.kind}, not a {args.model}")
        print(f"resuming {args.model} from epoch {trainer.epoch}, step {trainer.step}")
    else:
        config, train_config = default_settings(args.model, args.quick)
        overrides = {"epochs": args.epochs, "seed": args.seed, "lr": args.lr, "batch_size": args.batch_size,
                     "patience": args.patience}
        try:
            train_config = replace(train_config, **{k: v for k, v in overrides.items() if v is not None})
        except ValueError as error:  # e.g. --epochs 0
            raise UsageError(str(error)) from None
        model_overrides = {"seed": train_config.seed, "objective": args.objective, "iwae_k": args.k,
                           "latent_dim": args.latent_dim, "likelihood": args.likelihood,
                           "architecture": args.architecture}
        try:
            config = replace(config, **{k: v for k, v in model_overrides.items() if v is not None})
        except ValueError as error:
            raise UsageError(str(error)) from None
        model = build_model(asdict(config))
        trainer = Trainer(model, data["train"], data["validation"], train_config, out_dir=out,
                          data_info=data["info"], progress=not args.no_progress)
        print(f"training {args.model} ({model.num_parameters()} parameters) on {args.data}, seed "
              f"{train_config.seed}, up to {train_config.epochs} epochs -> {out}/")
    result = trainer.fit()
    print(f"stopped: {result.stopped} after {result.epochs_done} epochs, {result.steps} steps, "
          f"{result.seconds:.1f} s; best validation loss {result.best_validation:.3f} at epoch {result.best_epoch}")
    if result.stopped == "interrupted":
        print(f"checkpoint written: resume with --resume --out {out}")
        return 130
    metrics = evaluate_model(trainer.model, data["test"], k=100 if args.quick else 1000)
    metrics = {"best_epoch": result.best_epoch, "validation_loss": result.best_validation} | metrics
    from scratchgen.training import MODEL_NAME, write_checkpoint

    write_checkpoint(out / MODEL_NAME, trainer.model, kind="model", train_config=trainer.config,
                     data=data["info"], metrics=metrics)
    _print_table(metrics)
    print(f"wrote {out / MODEL_NAME} (best on validation) and {out / CHECKPOINT_NAME} (latest state)")
    return 0


def _load(path: str) -> Any:
    from scratchgen.training import load_checkpoint

    try:
        return load_checkpoint(path)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        raise UsageError(str(error)) from None


def cmd_sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be a positive number of samples, got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".png", ".npz"):
        raise UsageError(f"--out must end in .png (a figure) or .npz (the raw samples), got {out.name!r}")
    checkpoint = _load(args.checkpoint)
    samples = checkpoint.model.sample(args.n, rng=args.seed, mean=args.mean)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez(out, samples=samples.astype(np.float64))
    else:
        from scratchgen.plotting import digit_grid_figure, save_figure

        title = f"{checkpoint.config.get('kind', 'model')} samples (seed {args.seed})"
        save_figure(digit_grid_figure(samples, title), str(out.parent), out.name)
    print(f"wrote {len(samples)} samples to {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if not 1 <= args.k <= 100_000:
        raise UsageError(f"--k must be in 1..100000, got {args.k}")
    checkpoint = _load(args.checkpoint)
    name = checkpoint.data.get("name", "digits")
    data = load_data(name)
    metrics = evaluate_model(checkpoint.model, data["test"], k=args.k, seed=args.seed)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"{checkpoint.path} ({checkpoint.config.get('kind')}, {name} test split)")
        _print_table(metrics)
    return 0


# ----- the parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scratchgen", description="Train, sample and evaluate scratchgen's deep generative models.")
    parser.add_argument("--version", action="version", version=f"scratchgen {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="{train,sample,evaluate}")
    sub.required = True

    train = sub.add_parser("train", help="train a model (defaults: the README's settings)",
                           description="Train a model; writes DIR/model.npz (best on validation) and "
                                       "DIR/checkpoint.npz (latest state, for --resume).")
    train.add_argument("model", help=f"one of: {', '.join(MODELS)}")
    train.add_argument("--data", default="digits", help="data set (default: digits)")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--epochs", type=int, help="maximum number of epochs")
    train.add_argument("--seed", type=int, help="random seed (weights, shuffling, noise)")
    train.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.npz")
    train.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--batch-size", type=int, help="minibatch size")
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    train.add_argument("--objective", choices=("elbo", "iwae"), help="training objective")
    train.add_argument("--k", type=int, help="importance samples of the IWAE objective")
    train.add_argument("--latent-dim", type=int, help="size of z")
    train.add_argument("--likelihood", choices=("categorical", "bernoulli", "gaussian"), help="decoder p(x|z)")
    train.add_argument("--architecture", choices=("mlp", "conv"), help="encoder / decoder networks")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    sample = sub.add_parser("sample", help="draw samples from a checkpoint",
                            description="Draw samples; .png writes a grid figure, .npz the raw samples "
                                        "(key 'samples': (n, 8, 8) grey levels 0..16).")
    sample.add_argument("checkpoint", help="a model.npz or checkpoint.npz")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", required=True, help="FILE.png or FILE.npz")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sample.add_argument("--mean", action="store_true", help="decoder means E[x|z] instead of draws")
    sample.set_defaults(run=cmd_sample)

    evaluate = sub.add_parser("evaluate", help="the results-table metrics on the test split",
                              description="Test-split metrics: test_nll (IWAE, k samples, nats) and "
                                          "test_neg_elbo (nats).")
    evaluate.add_argument("checkpoint", help="a model.npz or checkpoint.npz")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--k", type=int, default=1000, help="importance samples (default 1000)")
    evaluate.add_argument("--seed", type=int, default=0, help="random seed of the estimate (default 0)")
    evaluate.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"scratchgen: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
