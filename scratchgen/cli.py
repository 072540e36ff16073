"""The ``scratchgen`` command line: train a model, sample from a checkpoint, evaluate it.

    scratchgen train {vae,hvae} --data digits --out DIR [--epochs N] [--seed S] [--resume] [--quick]
    scratchgen train gan --data {ring,grid,two_moons,swiss_roll,checkerboard,digits} --out DIR
                     [--loss {minimax,non_saturating,wgan_gp}] [--pack M] [--d-steps K] ...
    scratchgen train ddpm --data {swiss_roll,ring,grid,two_moons,spiral,checkerboard,digits} --out DIR
                     [--schedule {linear,cosine}] [--timesteps T]
    scratchgen train ddpm --data digits --conditional --out DIR       (class-conditional, for guidance)
    scratchgen sample CKPT --n 64 --out FILE.png|FILE.npz [--seed S] [--mean]
                      [--sampler {ancestral,ddim}] [--steps S] [--eta E] [--label K] [--guidance W]
    scratchgen restore CKPT --task {inpaint,superres,deblur} --n N --out FILE.npz|FILE.png [--seed S]
    scratchgen evaluate CKPT [--json] [--k 1000]
    scratchgen tour [--out demo_output] [--quick | --full] [--sections gan,vae]   (from a source checkout)

With no other flags ``train`` uses the settings behind the README's results. Misuse (a missing file, a file
that is not a checkpoint, an unknown model or data set, ``--resume`` with nothing to resume, ``--n 0``)
gets one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from scratchgen import __version__

MODELS = ("vae", "hvae", "gan", "ddpm")
TOY_DATA_SETS = ("ring", "grid", "two_moons", "swiss_roll", "spiral", "checkerboard")
DATA_SETS = ("digits", *TOY_DATA_SETS)
# The 2-D sets are drawn once with fixed seeds (train 0, validation 1, test 2), so every run sees the same points.
TOY_SIZES = {"train": 50_000, "validation": 500, "test": 2500}


class UsageError(Exception):
    """Bad use of the command line: reported as one line and exit code 2."""


def _nonnegative_int(text: str) -> int:
    """An argparse type: a seed and the like (numpy refuses negative seeds deep inside)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _finite_float(text: str) -> float:
    """An argparse type: a number that is neither NaN nor infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


_nonnegative_int.__name__ = "int"      # argparse names the type in its message: "invalid int value"
_finite_float.__name__ = "float"


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    """np.savez to a temporary name beside ``path``, then renamed into place: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "wb") as f:
            np.savez(f, **arrays)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


# Settings a resumed run takes from its checkpoint: giving them again is a mistake, not an override.
_FIXED_ON_RESUME = ("seed", "lr", "batch_size", "patience", "objective", "k", "latent_dim", "likelihood",
                    "architecture", "loss", "pack", "d_steps", "gradient_penalty", "schedule", "timesteps",
                    "conditional")  # (--quick still means a quick final evaluation)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's two lines (usage + error) become one
        raise UsageError(f"{message} (see {self.prog} --help)")


# ----- the model settings ------------------------------------------------------------------------------
def default_settings(model: str, quick: bool = False, data: str = "digits") -> tuple[Any, Any]:
    """(model config, TrainConfig): the README's settings, or a seconds-long smoke run with ``quick``."""
    from scratchgen.models import HierarchicalVAEConfig, VAEConfig
    from scratchgen.training import TrainConfig

    if model == "gan":
        return gan_settings(data, quick)
    if model == "ddpm":
        return ddpm_settings(data, quick)
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


def gan_settings(data: str, quick: bool = False) -> tuple[Any, Any]:
    """The GAN's README settings for ``data``: the MLP pair on the 2-D sets, the DCGAN pair on the digits."""
    from scratchgen.models import GANConfig
    from scratchgen.training import TrainConfig

    if data == "digits":
        config = GANConfig(data="digits", architecture="dcgan", latent_dim=32, discriminator_hidden=(128,))
        train = TrainConfig(epochs=300, batch_size=64, lr=2e-4, patience=0, ema_decay=0.999, select_best=False)
    elif data == "grid":
        # 25 modes need wider players than the ring's 8; a latent of 4 (64 leaves whole rows of the grid
        # bridged), unit-scale networks (the grid's per-coordinate spread is sqrt(8)), a 4x faster D, batches
        # of 128 (more, cheaper steps) and a linear decay of both rates to zero (the modes sharpen as the steps
        # shrink); one BLAS thread: these GEMMs are too small for two (docs/models.md has the runs)
        config = GANConfig(data=data, latent_dim=4, generator_hidden=(256, 256), discriminator_hidden=(256, 256),
                           pack=2, lr_scale_discriminator=4.0, data_scale=8 ** 0.5)
        train = TrainConfig(epochs=90, batch_size=128, lr=1e-3, patience=0, ema_decay=0.999, select_best=False,
                            lr_schedule="linear", blas_threads=1)
    else:
        config = GANConfig(data=data, latent_dim=64, generator_hidden=(128, 128), discriminator_hidden=(128,),
                           pack=2, lr_scale_discriminator=2.0)
        train = TrainConfig(epochs=100, batch_size=256, lr=5e-4, patience=0, ema_decay=0.999, select_best=False)
    if quick:
        config = replace(config, generator_hidden=(32,), discriminator_hidden=(32,), validation_samples=200)
        train = replace(train, epochs=2)
    return config, train


def ddpm_settings(data: str, quick: bool = False, conditional: bool = False) -> tuple[Any, Any]:
    """The DDPM's README settings for ``data``: the time-conditioned MLP on the 2-D sets (T = 1000, linear
    betas 1e-4..0.02, as DDPM and the KAIST benchmark), the small U-Net on the digits; ``conditional``: the
    digits' U-Net with a label embedding (10 classes, label dropout 0.1 for classifier-free guidance)."""
    from scratchgen.models import DDPMConfig
    from scratchgen.training import TrainConfig

    if data == "digits":
        # the levels head and the posterior variance: 154 -> 89 nats of validation bound (150 epochs, seed 0)
        config = DDPMConfig(data="digits", architecture="unet", channels=32, clip_x0=True, parameterization="levels",
                            variance="posterior", validation_draws=2)
        train = TrainConfig(epochs=400, batch_size=128, lr=1e-3, patience=0, ema_decay=0.999)
        if conditional:
            config = replace(config, num_classes=10, label_dropout=0.1)
    else:
        # sigma_t^2 = beta~_t: 94.4% high-quality ring samples against 89.2% with beta_t (seed 0)
        config = DDPMConfig(data=data, hidden=(128, 128, 128, 128), variance="posterior", validation_draws=4)
        train = TrainConfig(epochs=120, batch_size=256, lr=1e-3, patience=0, ema_decay=0.999)
    if quick:
        config = replace(config, timesteps=50, hidden=(32, 32), channels=8, time_dim=16, validation_draws=1)
        train = replace(train, epochs=2)
    return config, train


def load_data(name: str, labels: bool = False) -> dict[str, Any]:
    """The train / validation / test splits of a data set, and its ``info`` (stored in checkpoints); with
    ``labels`` (the digits only) each split is the pair (images, labels)."""
    from scratchgen.data import N_TEST, N_TRAIN, N_VALIDATION, load_digits, make_toy

    if name == "digits":
        splits = {split: load_digits(split) if labels else load_digits(split)[0]
                  for split in ("train", "validation", "test")}
        return splits | {"info": {"name": "digits", "split": {"train": N_TRAIN, "validation": N_VALIDATION,
                                                              "test": N_TEST}}}
    if name not in TOY_DATA_SETS:
        raise UsageError(f"unknown data set {name!r} (known: {', '.join(DATA_SETS)})")
    splits = {split: make_toy(name, n, seed=seed) for seed, (split, n) in enumerate(TOY_SIZES.items())}
    return splits | {"info": {"name": name, "split": dict(TOY_SIZES), "seeds": [0, 1, 2]}}


# ----- evaluation ------------------------------------------------------------------------------------------
def evaluate_gan(model: Any, data: dict[str, Any], seed: int = 0) -> dict[str, float]:
    """The GAN's results-table metrics. On ``ring`` / ``grid``: ``modes_covered``, ``high_quality`` and
    ``reverse_kl`` on 2500 samples, and ``mmd`` (squared, Gaussian kernel at the median distance) to the test
    points; on the other 2-D sets ``mmd`` and ``chamfer``. On the digits: ``frechet_digit_distance`` of 1000
    samples to the test digits and ``parzen_log_likelihood`` (a KDE on 1000 samples, bandwidth on validation,
    nats per test digit), each beside the same number for the 1000 real training digits (``..._real``)."""
    from scratchgen import metrics

    rng = np.random.default_rng(seed)
    test = data["test"]
    if model.config.is_image:
        samples = model.sample(N_GENERATED_DIGITS, rng).reshape(-1, 64)
        real = data["train"].reshape(len(data["train"]), -1)[:N_GENERATED_DIGITS]
        validation, test = data["validation"].reshape(-1, 64), test.reshape(-1, 64)
        fake_parzen = metrics.parzen_log_likelihood(samples, validation, test)
        real_parzen = metrics.parzen_log_likelihood(real, validation, test)
        return {"frechet_digit_distance": metrics.frechet_digit_distance(samples, test),
                "frechet_digit_distance_real": metrics.frechet_digit_distance(real, test),
                "parzen_log_likelihood": fake_parzen.log_likelihood, "parzen_stderr": fake_parzen.stderr,
                "parzen_bandwidth": fake_parzen.bandwidth,
                "parzen_log_likelihood_real": real_parzen.log_likelihood, "parzen_stderr_real": real_parzen.stderr,
                "n_samples": N_GENERATED_DIGITS}
    samples = model.sample(N_GENERATED_POINTS, rng)
    result: dict[str, Any] = {}
    if model.config.data in ("ring", "grid"):
        modes, std = metrics.toy_modes(model.config.data)
        coverage = metrics.mode_coverage(samples, modes, std)
        result |= {"modes_covered": int(coverage.modes_covered), "n_modes": len(modes),
                   "high_quality": float(coverage.high_quality), "reverse_kl": float(coverage.reverse_kl)}
    result["mmd"] = metrics.mmd(samples, test)
    if model.config.data not in ("ring", "grid"):
        result["chamfer"] = metrics.chamfer_distance(samples, test, reduction="mean")
    return result | {"n_samples": N_GENERATED_POINTS}


N_GENERATED_POINTS, N_GENERATED_DIGITS = 2500, 1000
N_CHAMFER, N_CHAMFER_REFERENCES = 2048, 5  # the KAIST benchmark's 2048 points; 5 fresh reference draws


GUIDANCE = 2.0  # the guidance weight of guided_accuracy (README: the sweep w = 0..4)
N_PER_LABEL, N_RESTORE = 50, 100


def evaluate_conditional(model: Any, data: dict[str, Any], seed: int = 0, quick: bool = False) -> dict[str, Any]:
    """A class-conditional digits DDPM: ``guided_accuracy`` (the metrics classifier on 50 DDIM-100 samples of
    every label at guidance w = 2), ``inpaint_accuracy`` (DPS completions of 100 test digits with the lower
    half masked, classified as their true digit; ``inpaint_accuracy_repaint`` the same for RePaint, U = 2),
    ``superres_psnr`` / ``deblur_psnr`` (DPS restorations of the same digits, dB on the 0..16 scale) beside
    the baselines ``superres_psnr_bilinear``, ``superres_psnr_nearest`` and ``deblur_psnr_observed`` (the
    blurred input itself)."""
    from scratchgen import metrics
    from scratchgen.models.inverse import AveragePool, psnr, restore

    rng = np.random.default_rng(seed)
    per_label, n_restore = (5, 10) if quick else (N_PER_LABEL, N_RESTORE)
    steps = min(10 if quick else 100, model.schedule.T)
    labels = np.repeat(np.arange(model.config.num_classes), per_label)
    samples = model.sample(len(labels), rng, sampler="ddim", steps=steps, labels=labels, guidance=GUIDANCE)
    truth, truth_labels = data["test"][0][:n_restore], data["test"][1][:n_restore]
    truth = truth.reshape(-1, 8, 8)
    result: dict[str, Any] = {"guided_accuracy": metrics.conditional_accuracy(samples.reshape(-1, 64), labels),
                              "guidance": GUIDANCE}
    inpaint = restore(model, "inpaint", truth, rng, steps=min(250, model.schedule.T))
    result["inpaint_accuracy"] = metrics.conditional_accuracy(inpaint["restored"].reshape(-1, 64), truth_labels)
    repainted = restore(model, "inpaint", truth, rng, method="repaint", resample=1 if quick else 2)
    result["inpaint_accuracy_repaint"] = metrics.conditional_accuracy(repainted["restored"].reshape(-1, 64),
                                                                      truth_labels)
    superres = restore(model, "superres", truth, rng, steps=min(250, model.schedule.T))
    low = AveragePool()
    result["superres_psnr"] = psnr(superres["restored"], truth)
    result["superres_psnr_bilinear"] = psnr(low.upsample_bilinear(superres["observed"][:, None])[:, 0], truth)
    result["superres_psnr_nearest"] = psnr(low.upsample_nearest(superres["observed"][:, None])[:, 0], truth)
    deblur = restore(model, "deblur", truth, rng, steps=min(250, model.schedule.T))
    result["deblur_psnr"] = psnr(deblur["restored"], truth)
    result["deblur_psnr_observed"] = psnr(deblur["observed"], truth)
    return result | {"n_samples": len(labels), "n_restored": n_restore}


def evaluate_ddpm(model: Any, data: dict[str, Any], seed: int = 0, quick: bool = False) -> dict[str, Any]:
    """The DDPM's results-table metrics. 2-D: ``chamfer`` (2048 ancestral samples against 2048 fresh data
    points, the mean over 5 fresh draws), ``chamfer_ddim50`` (DDIM, 50 steps, eta 0) and ``chamfer_floor`` (two
    fresh data draws against each other: what a perfect sampler would score); on ``ring`` / ``grid`` also
    ``modes_covered`` and ``high_quality`` of 2500 ancestral samples. Digits: ``test_nll_bound`` (the
    variational bound in nats per test digit, every t evaluated) and ``frechet_digit_distance`` of 1000
    samples to the test digits (``fdd_sampler`` says which sampler)."""
    from scratchgen import metrics
    from scratchgen.data import make_toy

    rng = np.random.default_rng(seed)
    config = model.config
    if model.conditional:
        return evaluate_conditional(model, data, seed, quick)
    if config.is_image:
        bound = model.nll_bound(data["test"], rng=rng)
        total, n = bound["total"], len(bound["total"])
        steps = min(10 if quick else 100, model.schedule.T)
        samples = model.sample(N_GENERATED_DIGITS, rng, sampler="ddim", steps=steps).reshape(-1, 64)
        test = data["test"].reshape(len(data["test"]), -1)
        real = data["train"].reshape(len(data["train"]), -1)[:N_GENERATED_DIGITS]
        return {"test_nll_bound": float(total.mean()), "test_nll_bound_stderr": float(total.std(ddof=1) / np.sqrt(n)),
                "bound_prior": float(bound["prior"].mean()), "bound_diffusion": float(bound["diffusion"].mean()),
                "bound_decoder": float(bound["decoder"].mean()),
                "frechet_digit_distance": metrics.frechet_digit_distance(samples, test),
                "frechet_digit_distance_real": metrics.frechet_digit_distance(real, test),
                "fdd_sampler": f"ddim{steps}", "n_samples": N_GENERATED_DIGITS}
    name = config.data
    references = [make_toy(name, N_CHAMFER, seed=10_000 + i) for i in range(N_CHAMFER_REFERENCES)]
    others = [make_toy(name, N_CHAMFER, seed=20_000 + i) for i in range(N_CHAMFER_REFERENCES)]

    def chamfer(points: np.ndarray) -> list[float]:
        return [metrics.chamfer_distance(points, reference) for reference in references]

    ancestral = chamfer(model.sample(N_CHAMFER, rng))
    ddim = chamfer(model.sample(N_CHAMFER, rng, sampler="ddim", steps=min(50, model.schedule.T)))
    floor = [metrics.chamfer_distance(a, b) for a, b in zip(others, references)]
    result: dict[str, Any] = {
        "chamfer": float(np.mean(ancestral)), "chamfer_std": float(np.std(ancestral)),
        "chamfer_ddim50": float(np.mean(ddim)), "chamfer_ddim50_std": float(np.std(ddim)),
        "chamfer_floor": float(np.mean(floor)), "chamfer_floor_std": float(np.std(floor))}
    if name in ("ring", "grid"):
        modes, std = metrics.toy_modes(name)
        coverage = metrics.mode_coverage(model.sample(N_GENERATED_POINTS, rng), modes, std)
        result |= {"modes_covered": int(coverage.modes_covered), "n_modes": len(modes),
                   "high_quality": float(coverage.high_quality), "reverse_kl": float(coverage.reverse_kl)}
    return result | {"n_samples": N_CHAMFER}


def evaluate_model(model: Any, test: np.ndarray, k: int = 1000, seed: int = 0) -> dict[str, float]:
    """The VAEs' results-table metrics on the test split: ``test_nll`` (IWAE, k samples) and ``test_neg_elbo``
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
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a folder, but {out} is a file")
    if args.resume:
        _settings_from_checkpoint(args, out)
    if args.data is None:
        args.data = {"gan": "ring", "ddpm": "digits" if args.conditional else "swiss_roll"}.get(args.model, "digits")
    if args.data not in DATA_SETS:
        raise UsageError(f"unknown data set {args.data!r} (known: {', '.join(DATA_SETS)})")
    if args.model not in ("gan", "ddpm") and args.data != "digits":
        raise UsageError(f"the {args.model} models the digits (--data digits), not {args.data!r}")
    gan_only = {"--loss": args.loss, "--pack": args.pack, "--d-steps": args.d_steps,
                "--gradient-penalty": args.gradient_penalty}
    vae_only = {"--objective": args.objective, "--k": args.k, "--likelihood": args.likelihood}
    ddpm_only = {"--schedule": args.schedule, "--timesteps": args.timesteps}
    allowed = {"gan": gan_only, "ddpm": ddpm_only}.get(args.model, vae_only)
    misplaced = [flag for flag, value in (gan_only | vae_only | ddpm_only).items()
                 if value is not None and flag not in allowed]
    if misplaced:
        raise UsageError(f"{', '.join(misplaced)} does not apply to the {args.model}")
    if args.conditional and (args.model != "ddpm" or args.data != "digits"):
        raise UsageError("--conditional is for the ddpm on the digits (labels 0..9)")
    data = load_data(args.data, labels=bool(args.conditional))
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
        if args.model == "ddpm":
            config, train_config = ddpm_settings(args.data, args.quick, conditional=bool(args.conditional))
        else:
            config, train_config = default_settings(args.model, args.quick, args.data)
        overrides = {"epochs": args.epochs, "seed": args.seed, "lr": args.lr, "batch_size": args.batch_size,
                     "patience": args.patience}
        try:
            train_config = replace(train_config, **{k: v for k, v in overrides.items() if v is not None})
        except ValueError as error:  # e.g. --epochs 0
            raise UsageError(str(error)) from None
        model_overrides = {"seed": train_config.seed, "objective": args.objective, "iwae_k": args.k,
                           "latent_dim": args.latent_dim, "likelihood": args.likelihood,
                           "architecture": args.architecture, "loss": args.loss, "pack": args.pack,
                           "d_steps": args.d_steps, "gradient_penalty": args.gradient_penalty,
                           "schedule": args.schedule, "timesteps": args.timesteps}
        if args.loss == "wgan_gp" and args.gradient_penalty is None:
            model_overrides |= {"gradient_penalty": 10.0, "d_steps": args.d_steps or 5, "betas": (0.0, 0.9)}
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
    if args.model == "gan":
        metrics = evaluate_gan(trainer.model, data)
    elif args.model == "ddpm":
        metrics = evaluate_ddpm(trainer.model, data, quick=args.quick)
    else:
        metrics = evaluate_model(trainer.model, data["test"], k=100 if args.quick else 1000)
    metrics = {"best_epoch": result.best_epoch, "validation_loss": result.best_validation} | metrics
    from scratchgen.training import MODEL_NAME, write_checkpoint

    write_checkpoint(out / MODEL_NAME, trainer.model, kind="model", train_config=trainer.config,
                     data=data["info"], metrics=metrics)
    _print_table(metrics)
    print(f"wrote {out / MODEL_NAME} (best on validation) and {out / CHECKPOINT_NAME} (latest state)")
    return 0


def _settings_from_checkpoint(args: argparse.Namespace, out: Path) -> None:
    """For --resume: refuse settings the checkpoint fixes, and take its data set (and labels) from it."""
    from scratchgen.training import CHECKPOINT_NAME

    given = [f"--{name.replace('_', '-')}" for name in _FIXED_ON_RESUME if getattr(args, name) not in (None, False)]
    if given:
        raise UsageError(f"{', '.join(given)} cannot change a resumed run: it continues with the settings stored "
                         f"in {out / CHECKPOINT_NAME} (only --epochs may extend it)")
    if not (out / CHECKPOINT_NAME).is_file():
        raise UsageError(f"nothing to resume: no {CHECKPOINT_NAME} in {out}")
    checkpoint = _load(str(out / CHECKPOINT_NAME))
    kind = checkpoint.config.get("kind")
    if kind != args.model:
        raise UsageError(f"{out / CHECKPOINT_NAME} holds a {kind}, not a {args.model}")
    stored = checkpoint.data.get("name") or checkpoint.config.get("data", "digits")
    if args.data is not None and args.data != stored:
        raise UsageError(f"--data {args.data}: {out / CHECKPOINT_NAME} was trained on {stored}; leave --data out")
    args.data, args.conditional = stored, bool(checkpoint.config.get("num_classes"))


def _load(path: str) -> Any:
    from scratchgen.training import load_checkpoint

    try:
        return load_checkpoint(path)
    except (OSError, ValueError) as error:   # missing, a folder, unreadable, corrupt or foreign
        raise UsageError(str(error).splitlines()[0] if str(error) else f"cannot read {path}") from None


def cmd_sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UsageError(f"--n must be a positive number of samples, got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".png", ".npz"):
        raise UsageError(f"--out must end in .png (a figure) or .npz (the raw samples), got {out.name!r}")
    checkpoint = _load(args.checkpoint)
    kind = checkpoint.config.get("kind", "model")
    diffusion_flags = {"--sampler": args.sampler, "--steps": args.steps, "--eta": args.eta, "--label": args.label,
                       "--guidance": args.guidance}
    if kind != "ddpm" and any(v is not None for v in diffusion_flags.values()):
        used = ", ".join(flag for flag, value in diffusion_flags.items() if value is not None)
        raise UsageError(f"{used}: for the ddpm's samplers, not a {kind}")
    if kind == "ddpm":
        if args.mean:
            raise UsageError("--mean is for the VAEs (decoder means); the ddpm samples with --sampler")
        sampler = args.sampler or "ancestral"
        if args.steps is not None and sampler != "ddim":
            raise UsageError("--steps sets the DDIM sampler's steps (--sampler ddim); ancestral uses all T")
        if args.eta is not None and sampler != "ddim":
            raise UsageError("--eta is the DDIM sampler's noise (--sampler ddim)")
        T = checkpoint.model.schedule.T
        if args.steps is not None and not 1 <= args.steps <= T:
            raise UsageError(f"--steps must be in 1..{T} (the model's timesteps), got {args.steps}")
        if args.eta is not None and not args.eta >= 0:
            raise UsageError(f"--eta must be >= 0, got {args.eta}")
        model = checkpoint.model
        if (args.label is not None or args.guidance is not None) and not model.conditional:
            raise UsageError("--label and --guidance need a class-conditional ddpm (train ddpm --conditional)")
        if args.label is not None and not 0 <= args.label < model.config.num_classes:
            raise UsageError(f"--label must be in 0..{model.config.num_classes - 1}, got {args.label}")
        if args.guidance is not None and not (math.isfinite(args.guidance) and args.guidance >= 0):
            raise UsageError(f"--guidance must be a number >= 0, got {args.guidance}")
        labels = None
        if model.conditional:  # one label for all, or the digits 0..9 in turn
            labels = (np.full(args.n, args.label) if args.label is not None
                      else np.arange(args.n) % model.config.num_classes)
        samples = model.sample(args.n, rng=args.seed, sampler=sampler, steps=args.steps, eta=args.eta or 0.0,
                               progress=True, labels=labels,
                               guidance=1.0 if args.guidance is None else args.guidance)
    elif kind == "gan":
        if args.mean:
            raise UsageError("--mean is for the VAEs (decoder means); a GAN's G(z) is already deterministic")
        samples = checkpoint.model.sample(args.n, rng=args.seed)
    else:
        samples = checkpoint.model.sample(args.n, rng=args.seed, mean=args.mean)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        extra = {"labels": labels} if kind == "ddpm" and labels is not None else {}
        _write_npz(out, samples=samples.astype(np.float64), **extra)
    else:
        from scratchgen.plotting import digit_grid_figure, points_figure, save_figure

        title = f"{kind} samples (seed {args.seed})"
        if samples.ndim == 2:  # 2-D points, drawn over the test points of their data set
            name = checkpoint.data.get("name", checkpoint.config.get("data"))
            figure = points_figure(samples, load_data(name)["test"], title)
        else:
            figure = digit_grid_figure(samples, title)
        save_figure(figure, str(out.parent), out.name)
    print(f"wrote {len(samples)} samples to {out}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from scratchgen.data import load_digits
    from scratchgen.models.inverse import restore

    if not 1 <= args.n <= 447:
        raise UsageError(f"--n must be in 1..447 (the test digits), got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".png", ".npz"):
        raise UsageError(f"--out must end in .png (a figure) or .npz (the arrays), got {out.name!r}")
    checkpoint = _load(args.checkpoint)
    if checkpoint.config.get("kind") != "ddpm" or checkpoint.config.get("data") != "digits":
        raise UsageError(f"restore needs a ddpm trained on the digits, not {checkpoint.path}")
    truth, truth_labels = load_digits("test", flatten=False)
    truth, truth_labels = truth[:args.n], truth_labels[:args.n]
    if args.method == "repaint" and args.task != "inpaint":
        raise UsageError("--method repaint is for --task inpaint (DPS restores every task)")
    result = restore(checkpoint.model, args.task, truth, rng=args.seed, method=args.method)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        _write_npz(out, **result, labels=truth_labels)
    else:
        from scratchgen.plotting import digit_grid_figure, save_figure

        rows = [result["observed"] if args.task != "superres" else np.repeat(np.repeat(result["observed"], 2, 1), 2, 2),
                result["restored"], result["truth"]]
        columns = min(args.n, 16)
        figure = digit_grid_figure(np.concatenate([r[:columns] for r in rows]),
                                   f"{args.task}: observed / restored / truth", columns=columns)
        save_figure(figure, str(out.parent), out.name)
    print(f"wrote {args.n} {args.task} restorations to {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if not 1 <= args.k <= 100_000:
        raise UsageError(f"--k must be in 1..100000, got {args.k}")
    checkpoint = _load(args.checkpoint)
    name = checkpoint.data.get("name", "digits")
    data = load_data(name, labels=bool(checkpoint.config.get("num_classes")))
    if checkpoint.config.get("kind") == "gan":
        metrics = evaluate_gan(checkpoint.model, data, seed=args.seed)
    elif checkpoint.config.get("kind") == "ddpm":
        metrics = evaluate_ddpm(checkpoint.model, data, seed=args.seed)
    else:
        metrics = evaluate_model(checkpoint.model, data["test"], k=args.k, seed=args.seed)
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"{checkpoint.path} ({checkpoint.config.get('kind')}, {name} test split)")
        _print_table(metrics)
    return 0


def _tour_module() -> Any:
    """demos/tour.py of the checkout this package was installed from (pip install -e): demos/ is no package."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "demos" / "tour.py"
    if not path.is_file():
        raise UsageError(f"the tour needs a source checkout: no {path} (git clone the repository, pip install -e .)")
    spec = importlib.util.spec_from_file_location("scratchgen_tour", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def cmd_tour(args: argparse.Namespace) -> int:
    tour = _tour_module()
    try:  # both before anything runs: a typo must not cost a half-finished tour
        tour.select_sections(args.sections)
        tour.check_out(args.out)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return tour.run_tour(args.out, "quick" if args.quick else "full" if args.full else "default", args.sections)


# ----- the parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scratchgen", description="Train, sample and evaluate scratchgen's deep generative models.")
    parser.add_argument("--version", action="version", version=f"scratchgen {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="{train,sample,restore,evaluate,tour}")
    sub.required = True

    train = sub.add_parser("train", help="train a model (defaults: the README's settings)",
                           description="Train a model; writes DIR/model.npz (best on validation) and "
                                       "DIR/checkpoint.npz (latest state, for --resume).")
    train.add_argument("model", help=f"one of: {', '.join(MODELS)}")
    train.add_argument("--data", help=f"data set: {', '.join(DATA_SETS)} (default: digits; ring for the gan)")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--epochs", type=int, help="maximum number of epochs")
    train.add_argument("--seed", type=_nonnegative_int, help="random seed (weights, shuffling, noise)")
    train.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.npz")
    train.add_argument("--quick", action="store_true", help="a tiny smoke run (seconds)")
    train.add_argument("--lr", type=_finite_float, help="learning rate")
    train.add_argument("--batch-size", type=int, help="minibatch size")
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    train.add_argument("--objective", choices=("elbo", "iwae"), help="training objective")
    train.add_argument("--k", type=int, help="importance samples of the IWAE objective")
    train.add_argument("--latent-dim", type=int, help="size of z")
    train.add_argument("--likelihood", choices=("categorical", "bernoulli", "gaussian"), help="decoder p(x|z)")
    train.add_argument("--architecture", choices=("mlp", "conv", "dcgan", "unet"),
                       help="networks: mlp or conv (VAEs), mlp or dcgan (GAN), mlp or unet (DDPM)")
    train.add_argument("--loss", choices=("minimax", "non_saturating", "wgan_gp"), help="GAN loss")
    train.add_argument("--pack", type=int, help="GAN: samples per discriminator input (PacGAN; 1: off)")
    train.add_argument("--d-steps", type=int, help="GAN: discriminator steps per generator step")
    train.add_argument("--gradient-penalty", type=_finite_float, help="GAN: gradient-penalty weight lambda (0: off)")
    train.add_argument("--schedule", choices=("linear", "cosine"), help="DDPM: the noise schedule")
    train.add_argument("--timesteps", type=int, help="DDPM: the number of diffusion steps T")
    train.add_argument("--conditional", action="store_true", help="DDPM on the digits: class-conditional")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    sample = sub.add_parser("sample", help="draw samples from a checkpoint",
                            description="Draw samples; .png writes a figure (a grid of digits, or 2-D points "
                                        "over the data), .npz the raw samples (key 'samples': (n, 8, 8) grey "
                                        "levels 0..16, or (n, 2) points).")
    sample.add_argument("checkpoint", help="a model.npz or checkpoint.npz")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", required=True, help="FILE.png or FILE.npz")
    sample.add_argument("--seed", type=_nonnegative_int, default=0, help="random seed (default 0)")
    sample.add_argument("--mean", action="store_true", help="decoder means E[x|z] instead of draws")
    sample.add_argument("--sampler", choices=("ancestral", "ddim"), help="DDPM: the sampler (default ancestral)")
    sample.add_argument("--steps", type=int, help="DDPM: DDIM steps (default 50)")
    sample.add_argument("--eta", type=_finite_float, help="DDPM: DDIM noise, 0 deterministic .. 1 (default 0)")
    sample.add_argument("--label", type=int, help="conditional DDPM: the digit to draw (default 0..9 in turn)")
    sample.add_argument("--guidance", type=_finite_float,
                        help="conditional DDPM: guidance weight w (0 unconditional, 1 conditional; default 1)")
    sample.set_defaults(run=cmd_sample)

    restore = sub.add_parser("restore", help="inpaint, super-resolve or deblur test digits with a digits ddpm",
                             description="Restore the first N test digits observed through a linear operator: "
                                         "inpaint (lower half masked), superres (2x2 averages), deblur (Gaussian "
                                         "blur), by DPS (or RePaint for inpainting). .npz holds observed, "
                                         "restored, truth.")
    restore.add_argument("checkpoint", help="a digits ddpm's model.npz or checkpoint.npz")
    restore.add_argument("--task", required=True, choices=("inpaint", "superres", "deblur"))
    restore.add_argument("--n", type=int, default=16, help="number of test digits (default 16)")
    restore.add_argument("--out", required=True, help="FILE.npz or FILE.png")
    restore.add_argument("--method", choices=("dps", "repaint"), default="dps",
                         help="DPS (every task; the default) or RePaint (inpainting)")
    restore.add_argument("--seed", type=_nonnegative_int, default=0, help="random seed (default 0)")
    restore.set_defaults(run=cmd_restore)

    evaluate = sub.add_parser("evaluate", help="the results-table metrics on the test split",
                              description="Test-split metrics: test_nll (IWAE, k samples, nats) and "
                                          "test_neg_elbo (nats) for the VAEs; modes_covered, high_quality, "
                                          "reverse_kl, mmd (2-D) or frechet_digit_distance and "
                                          "parzen_log_likelihood (digits) for the GAN; chamfer, "
                                          "chamfer_ddim50, chamfer_floor (2-D) or test_nll_bound and "
                                          "frechet_digit_distance (digits) for the DDPM.")
    evaluate.add_argument("checkpoint", help="a model.npz or checkpoint.npz")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--k", type=int, default=1000, help="importance samples (default 1000)")
    evaluate.add_argument("--seed", type=_nonnegative_int, default=0, help="random seed of the estimate (default 0)")
    evaluate.set_defaults(run=cmd_evaluate)

    tour = sub.add_parser("tour", help="every lecture section's demo in order, and an HTML report of them",
                          description="Run the demos in lecture order (python demos/tour.py); writes the figures "
                                      "and DIR/index.html. Ctrl-C keeps what finished and still writes the report.")
    tour.add_argument("--out", default="demo_output", help="folder for the figures and index.html (default "
                                                           "demo_output)")
    budget = tour.add_mutually_exclusive_group()
    budget.add_argument("--quick", action="store_true", help="tiny networks for a few steps: a first look, < 3 min")
    budget.add_argument("--full", action="store_true",
                        help="the README's settings for the deep models (an hour or so)")
    tour.add_argument("--sections", help="comma-separated section keys (likelihood, inverse-transform, rejection, "
                                         "mcmc, gmm-em, kde, why-generative, curse-of-dimensionality, gan, vae, "
                                         "ddpm, conditional-inverse) or a demo such as sec2; default: all")
    tour.set_defaults(run=cmd_tour)
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
