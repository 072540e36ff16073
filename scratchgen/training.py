"""One training loop for every model, and the checkpoints it writes.

The loop is minibatch stochastic optimisation of ``model.training_loss(batch, rng, epoch)`` with Adam(W),
a validation pass after every epoch (``model.validation_loss``, lower is better), early stopping on it,
and the best weights kept. What it promises:

* **Same seed, same result.** One ``numpy.random.Generator`` (seeded by ``TrainConfig.seed``) shuffles the
  data and draws every noise sample, including the models' Dropout masks; validation uses its own
  generator, reseeded at every evaluation, so it never moves the training stream.
* **Nothing lost.** ``DIR/checkpoint.npz`` (the latest state) is written atomically after every epoch and on
  Ctrl-C; ``DIR/model.npz`` (the best model on validation) whenever validation improves. A checkpoint holds
  the weights, the optimizer's moments and step counts, the EMA if any, the model's and the training's
  configuration as JSON, the epoch and step (and the current epoch's permutation, so an interrupted epoch
  resumes mid-way), the early-stopping state, the RNG state, the data set and the library version.
  Resuming from it reaches the same weights as an uninterrupted run.
* **Ctrl-C** finishes the current step, writes the checkpoint and returns with ``stopped = "interrupted"``.
* **A NaN or inf loss** stops training with :class:`NonFiniteLossError`, naming the step and the last
  finite loss.

Checkpoints are plain ``.npz`` files written by ``autograd_lite.save`` (no pickle); :func:`load_checkpoint`
refuses a foreign or truncated file, or weights that do not fit the stored configuration, with a
one-line :class:`CheckpointError`.
"""
from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim
from scratchgen._checks import (
    check_callable,
    check_choice,
    check_count,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_real,
)

FORMAT_NAME = "scratchgen-checkpoint"
CHECKPOINT_NAME, MODEL_NAME = "checkpoint.npz", "model.npz"
LR_SCHEDULES = ("constant", "linear")


class CheckpointError(ValueError):
    """A file that is not a usable scratchgen checkpoint (the message says why, in one line)."""


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or inf."""


@dataclass
class TrainConfig:
    """The optimisation settings (saved with every checkpoint).

    ``patience``: stop after this many epochs without a better validation loss (0: never stop early).
    ``weight_decay`` is AdamW's decoupled decay. ``grad_clip``: clip the global gradient norm (0: off).
    ``ema_decay``: validate, keep and return an exponential moving average of the weights (0: off; the
    average starts at the first step, see ``optim.EMA(warmup=True)``).
    ``lr_patience``: multiply the learning rate by ``lr_factor`` after every ``lr_patience`` epochs without a
    better validation loss (0: a constant learning rate).
    ``lr_schedule``: ``"constant"``, or ``"linear"``: step k of K = epochs x batches runs at lr (1 - k / K), a
    linear decay to zero over the run (PyTorch's ``LinearLR`` stepped per batch, end factor 0). The GANs use it:
    the shrinking steps let the players settle instead of circling, and the generator's modes sharpen.
    ``blas_threads``: NumPy's BLAS threads while training; 0 (the default) chooses: 1 when the model has conv
    layers (their numba kernels run their own threads, and two pools on two cores fight: see the README's
    threading table), else BLAS's own default (all cores: 1.3x faster for the MLP VAE on 2 cores).
    ``select_best``: keep (and write to ``model.npz``) the weights of the best validation epoch; False keeps
    the last epoch's (the GANs': their validation numbers track sample quality too loosely to select on).
    """

    epochs: int = 300
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 50
    grad_clip: float = 0.0
    ema_decay: float = 0.0
    lr_patience: int = 0
    lr_factor: float = 0.5
    seed: int = 0
    blas_threads: int = 0
    select_best: bool = True
    lr_schedule: str = "constant"

    def __post_init__(self) -> None:
        # counts are stored as Python ints: a NumPy integer would not go into the checkpoint's JSON
        for name in ("epochs", "batch_size"):
            setattr(self, name, check_count(getattr(self, name), name))
        for name in ("patience", "lr_patience", "seed", "blas_threads"):
            setattr(self, name, check_count(getattr(self, name), name, minimum=0))
        if check_real(self.lr, "lr") <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        check_nonnegative(self.weight_decay, "weight_decay")
        check_nonnegative(self.grad_clip, "grad_clip")
        if check_positive(self.lr_factor, "lr_factor") > 1:
            raise ValueError(f"lr_factor must be in (0, 1], got {self.lr_factor}")
        check_fraction(self.ema_decay, "ema_decay")
        check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        if self.lr_schedule != "constant" and self.lr_patience:
            raise ValueError(f"lr_schedule {self.lr_schedule!r} and lr_patience > 0 both set the learning rate: "
                             "choose one")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {unknown}")
        return cls(**values)


@dataclass
class TrainResult:
    """What a run did: per-epoch curves, the best epoch and why it stopped
    ("completed", "early_stopping", "interrupted" or "max_steps")."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_validation: float = math.inf
    epochs_done: int = 0
    steps: int = 0
    stopped: str = "completed"
    seconds: float = 0.0


# ----- checkpoints -----------------------------------------------------------------------------------------
def _json(value: Any) -> np.ndarray:
    return np.array(json.dumps(value, sort_keys=True))


def _check_path(value: Any, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (a str or os.PathLike), got {type(value).__name__}")
    return Path(value)


def _check_dict(value: Any, name: str) -> dict[str, Any]:
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict (or None), got {type(value).__name__}")
    return value


def _check_model(model: Any, needed: tuple[str, ...]) -> Any:
    if not isinstance(model, nn.Module) or not all(hasattr(model, attribute) for attribute in needed):
        raise TypeError(f"model must be a scratchgen model (an nn.Module with {', '.join(needed)}), got "
                        f"{type(model).__name__}")
    return model


def write_checkpoint(path: str | Path, model: nn.Module, *, kind: str = "checkpoint",
                     train_config: TrainConfig | None = None, data: dict[str, Any] | None = None,
                     extra: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                     weights: dict[str, np.ndarray] | None = None) -> None:
    """Write ``model`` (its current weights, or ``weights``; for ``kind="checkpoint"`` also the training state
    in ``extra``) to one ``.npz``."""
    from scratchgen import __version__

    path, model = _check_path(path, "path"), _check_model(model, ("config", "state_dict"))
    check_choice(kind, "kind", ("checkpoint", "model"))
    if train_config is not None and not isinstance(train_config, TrainConfig):
        raise TypeError(f"train_config must be a TrainConfig (or None), got {type(train_config).__name__}")
    for name, value in (("data", data), ("extra", extra), ("metrics", metrics), ("weights", weights)):
        _check_dict(value, name)

    state: dict[str, Any] = {
        "format": np.array(FORMAT_NAME), "kind": np.array(kind), "library_version": np.array(__version__),
        "config": np.array(model.config.to_json()), "model": model.state_dict() if weights is None else weights,
        "train_config": _json(asdict(train_config) if train_config else {}), "data": _json(data or {}),
        "metrics": _json(metrics or {}),
    }
    state.update(extra or {})
    al.save(state, path)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model (weights loaded) and everything stored beside it."""

    model: nn.Module
    config: dict[str, Any]
    train_config: dict[str, Any]
    data: dict[str, Any]
    metrics: dict[str, Any]
    kind: str
    library_version: str
    state: dict[str, Any]
    path: Path


def _text(state: dict[str, Any], key: str, path: Path) -> str:
    if key not in state or np.asarray(state[key]).dtype.kind != "U" or np.ndim(state[key]) != 0:
        raise CheckpointError(f"{path}: not a scratchgen checkpoint (no {key!r} entry)")
    return str(state[key])


def _parse_json(state: dict[str, Any], key: str, path: Path) -> Any:
    try:
        return json.loads(_text(state, key, path))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: the {key!r} entry is not valid JSON ({error})") from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a ``model.npz`` or ``checkpoint.npz`` and rebuild its model from the stored configuration.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` (a ``ValueError``) for a
    file that is not a scratchgen checkpoint, is truncated, or holds weights that do not fit its config.
    """
    from scratchgen.models import build_model

    path = _check_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    try:
        state = al.load(path)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    if state.get("format") is None or str(state["format"]) != FORMAT_NAME:
        raise CheckpointError(f"{path}: not a scratchgen checkpoint (written by something else)")
    config = _parse_json(state, "config", path)
    try:
        model = build_model(config)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: the stored configuration does not build a model ({error})") from None
    weights = state.get("model")
    if not isinstance(weights, dict) or not weights:
        raise CheckpointError(f"{path}: no model weights inside")
    dtypes = {np.asarray(w).dtype for w in weights.values()}
    if dtypes == {np.dtype(np.float64)}:  # a float64 model comes back float64 (built float32 by default)
        model.to(np.float64)
    try:
        model.load_state_dict(weights)
    except (KeyError, ValueError) as error:
        message = str(error).strip("'\"").splitlines()[0]
        raise CheckpointError(f"{path}: the weights do not fit the stored configuration ({message})") from None
    model.eval()
    return Checkpoint(model=model, config=config, train_config=_parse_json(state, "train_config", path),
                      data=_parse_json(state, "data", path), metrics=_parse_json(state, "metrics", path),
                      kind=_text(state, "kind", path), library_version=_text(state, "library_version", path),
                      state=state, path=path)


# ----- the loop -------------------------------------------------------------------------------------------
@contextmanager
def _stop_on_ctrl_c(trainer: Trainer):
    """Turn the first Ctrl-C into a request to stop after the current step (a second one interrupts)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def request_stop(signum, frame):
        trainer.stop_requested = True
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _blas_limit(threads: int, model: nn.Module):
    if threads == 0:
        if not any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules()):
            return nullcontext()
        threads = 1
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover (a runtime dependency)
        return nullcontext()
    return threadpool_limits(threads, user_api="blas")


def _rows(data: Any, index: Any) -> Any:
    """Rows of a data set: an array, or a tuple of arrays indexed together (a conditional model's (x, labels))."""
    return tuple(a[index] for a in data) if isinstance(data, tuple) else data[index]


def _length(data: Any) -> int:
    return len(data[0]) if isinstance(data, tuple) else len(data)


class Trainer:
    """Trains ``model`` on ``train_data`` with early stopping on ``validation_data``.

    ``model`` provides ``config`` (a dataclass with ``to_json()``), ``check_data(x, name)`` (validated
    NumPy data), ``to_tensor(array)``, ``training_loss(batch, rng, epoch)`` and
    ``validation_loss(data, rng) -> float``. A model with several players (a GAN) provides instead
    ``optimizer_groups() -> {name: (parameters, {"lr_scale": ..., "betas": ...})}`` (one Adam each),
    ``training_step(batch, *, rng, epoch, step, optimizers, check_loss, grad_clip) -> float`` (its own
    updates; ``check_loss(tensor)`` is the NaN guard) and optionally ``ema_parameters()`` (what the EMA
    averages). With ``out_dir`` set, ``checkpoint.npz`` and ``model.npz`` are
    written there. ``callback(trainer, step, loss)`` runs after every step (tests use it to interrupt).
    """

    def __init__(self, model: nn.Module, train_data: Any, validation_data: Any, config: TrainConfig | None = None,
                 out_dir: str | Path | None = None, data_info: dict[str, Any] | None = None,
                 progress: bool = True, callback: Callable[[Trainer, int, float], None] | None = None):
        _check_model(model, ("config", "check_data", "to_tensor", "validation_loss"))
        if config is not None and not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig (or None: the defaults), got {type(config).__name__}")
        if callback is not None:
            check_callable(callback, "callback")
        self.model, self.config = model, config or TrainConfig()
        self.train_data = model.check_data(train_data, "train_data")
        self.validation_data = model.check_data(validation_data, "validation_data")
        self.out_dir = _check_path(out_dir, "out_dir") if out_dir is not None else None
        self.data_info = _check_dict(data_info, "data_info") or {}
        self.progress, self.callback = progress, callback
        self.rng = np.random.default_rng(self.config.seed)
        for module in model.modules():  # every Dropout mask comes from the one training stream
            if isinstance(module, nn.Dropout):
                module.rng = self.rng
        c = self.config
        # One optimizer per parameter group: a GAN has two (discriminator and generator), a VAE one.
        groups = (model.optimizer_groups() if hasattr(model, "optimizer_groups")
                  else {"model": (list(model.parameters()), {})})
        self.optimizers = {name: self._optimizer(params, options) for name, (params, options) in groups.items()}
        self.optimizer = next(iter(self.optimizers.values()))
        self.base_lrs = [opt.lr for opt in self.optimizers.values()]
        averaged = list(model.ema_parameters()) if hasattr(model, "ema_parameters") else list(model.parameters())
        self.ema = optim.EMA(averaged, decay=c.ema_decay, warmup=True) if c.ema_decay else None
        self.result = TrainResult()
        self.best_state: dict[str, np.ndarray] | None = None
        self.epoch = self.step = self.step_in_epoch = self.bad_epochs = 0
        self.permutation: np.ndarray | None = None
        self.epoch_loss_sum = 0.0
        self.last_finite = (math.nan, -1)
        self.stop_requested = False

    def _optimizer(self, params: list[nn.Parameter], options: dict[str, Any]) -> optim.Adam:
        """Adam (AdamW with weight decay) at ``lr * lr_scale``, with the group's ``betas``."""
        c = self.config
        lr, betas = c.lr * options.get("lr_scale", 1.0), tuple(options.get("betas", (0.9, 0.999)))
        if c.weight_decay:
            return optim.AdamW(params, lr=lr, betas=betas, weight_decay=c.weight_decay)
        return optim.Adam(params, lr=lr, betas=betas)

    def _optimizer_state(self) -> dict[str, Any]:
        if list(self.optimizers) == ["model"]:
            return self.optimizer.state_dict()
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def _load_optimizer_state(self, state: dict[str, Any]) -> None:
        if list(self.optimizers) == ["model"]:
            self.optimizer.load_state_dict(state)
            return
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])

    # ----- state -----
    def state_dict(self) -> dict[str, Any]:
        r = self.result
        state = {
            "optimizer": self._optimizer_state(),
            "best_model": self.best_state if self.best_state is not None else {},
            "progress": {
                "epoch": np.array(self.epoch), "step": np.array(self.step),
                "step_in_epoch": np.array(self.step_in_epoch), "bad_epochs": np.array(self.bad_epochs),
                "epoch_loss_sum": np.array(self.epoch_loss_sum),
                "permutation": self.permutation if self.permutation is not None else np.zeros(0, np.int64),
                "best_epoch": np.array(r.best_epoch), "best_validation": np.array(r.best_validation),
                "seconds": np.array(r.seconds),
            },
            "history": _json({"train_loss": r.train_loss, "validation_loss": r.validation_loss}),
            "rng_state": _json(self.rng.bit_generator.state),
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, checkpoint: Checkpoint) -> None:
        """Continue from a loaded checkpoint (its model's weights are copied into ``self.model``)."""
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"checkpoint must be a Checkpoint (see load_checkpoint), got {type(checkpoint).__name__}")
        s = checkpoint.state
        try:
            self.model.load_state_dict(s["model"])
            self._load_optimizer_state(s["optimizer"])
            if self.ema is not None and "ema" in s:
                self.ema.load_state_dict(s["ema"])
            p = s["progress"]
            self.epoch, self.step = int(p["epoch"]), int(p["step"])
            self.step_in_epoch, self.bad_epochs = int(p["step_in_epoch"]), int(p["bad_epochs"])
            self.epoch_loss_sum = float(p["epoch_loss_sum"])
            # an epoch's permutation is drawn before its first step: keep a saved one (a stop at an epoch
            # boundary), or the resumed run would draw another from the already advanced generator
            self.permutation = np.asarray(p["permutation"]) if np.size(p["permutation"]) else None
            history = json.loads(str(s["history"]))
            self.rng.bit_generator.state = json.loads(str(s["rng_state"]))
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{checkpoint.path}: not a resumable training checkpoint ({error})") from None
        self.best_state = s.get("best_model") or None  # absent if stopped before the first validation
        self.result = TrainResult(train_loss=history["train_loss"], validation_loss=history["validation_loss"],
                                  best_epoch=int(p["best_epoch"]), best_validation=float(p["best_validation"]),
                                  epochs_done=self.epoch, steps=self.step, seconds=float(p["seconds"]))

    def save(self) -> None:
        if self.out_dir is None:
            return
        write_checkpoint(self.out_dir / CHECKPOINT_NAME, self.model, train_config=self.config,
                         data=self.data_info, extra=self.state_dict())

    def _save_best(self) -> None:
        if self.out_dir is None or self.best_state is None:
            return
        metrics = {"best_epoch": self.result.best_epoch, "validation_loss": self.result.best_validation}
        write_checkpoint(self.out_dir / MODEL_NAME, self.model, kind="model", train_config=self.config,
                         data=self.data_info, metrics=metrics, weights=self.best_state)

    # ----- the loop -----
    def _check_loss(self, loss: al.Tensor) -> float:
        value = float(loss.item())
        if not math.isfinite(value):
            last, at = self.last_finite
            raise NonFiniteLossError(
                f"the training loss is {value} at step {self.step + 1} (epoch {self.epoch + 1}); "
                f"the last finite loss was {last:.6g} at step {at}" if at >= 0 else
                f"the training loss is {value} at the first step: check the data and the learning rate")
        self.last_finite = (value, self.step + 1)
        return value

    def _scheduled_lr(self, n_batches: int) -> None:
        """lr_schedule "linear": this step's rate, base_lr (1 - k / K); set from the step count alone, so a
        resumed run continues on the same schedule."""
        factor = 1.0 - self.step / (self.config.epochs * n_batches)
        for opt, base in zip(self.optimizers.values(), self.base_lrs):
            opt.lr = base * max(factor, 0.0)

    def _train_step(self, batch: np.ndarray, n_batches: int) -> float:
        self.model.train()
        if self.config.lr_schedule == "linear":
            self._scheduled_lr(n_batches)
        epoch = self.epoch + self.step_in_epoch / n_batches
        if hasattr(self.model, "training_step"):
            # a model with several players (a GAN) makes its own updates, checking each loss before using it
            value = self.model.training_step(self.model.to_tensor(batch), rng=self.rng, epoch=epoch,
                                             step=self.step, optimizers=self.optimizers,
                                             check_loss=self._check_loss, grad_clip=self.config.grad_clip)
        else:
            loss = self.model.training_loss(self.model.to_tensor(batch), self.rng, epoch)
            value = self._check_loss(loss)
            self.optimizer.zero_grad()
            loss.backward()
            if self.config.grad_clip:
                optim.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
        if self.ema is not None:
            self.ema.update()
        self.step += 1
        self.step_in_epoch += 1
        self.epoch_loss_sum += value
        return value

    def _validate(self) -> float:
        self.model.eval()
        rng = np.random.default_rng([self.config.seed, 7919])  # the same draws at every evaluation
        context = self.ema.average_parameters() if self.ema is not None else nullcontext()
        with context:
            return float(self.model.validation_loss(self.model.to_tensor(self.validation_data), rng))

    def _end_epoch(self, n_batches: int) -> bool:
        """Validation, early stopping, checkpoints; True when training should stop early."""
        r = self.result
        r.train_loss.append(self.epoch_loss_sum / n_batches)
        value = self._validate()
        r.validation_loss.append(value)
        self.epoch += 1
        self.step_in_epoch, self.epoch_loss_sum, self.permutation = 0, 0.0, None
        r.epochs_done, r.steps = self.epoch, self.step
        if value < r.best_validation or not self.config.select_best:
            r.best_validation, r.best_epoch, self.bad_epochs = value, self.epoch, 0
            context = self.ema.average_parameters() if self.ema is not None else nullcontext()
            with context:
                self.best_state = self.model.state_dict()
            self._save_best()
        else:
            self.bad_epochs += 1
            if self.config.lr_patience and self.bad_epochs % self.config.lr_patience == 0:
                for opt in self.optimizers.values():  # stored in each optimizer's state: resumes too
                    opt.lr *= self.config.lr_factor
        return bool(self.config.patience) and self.bad_epochs >= self.config.patience

    def fit(self, max_steps: int | None = None) -> TrainResult:
        """Train until ``epochs`` (or early stopping, Ctrl-C, or ``max_steps`` steps in total); afterwards the
        model holds the best weights on validation (the last ones if stopped before any validation)."""
        from tqdm.auto import tqdm

        if max_steps is not None:
            max_steps = check_count(max_steps, "max_steps", minimum=0)
        c, n = self.config, _length(self.train_data)
        n_batches = math.ceil(n / c.batch_size)
        start = time.perf_counter() - self.result.seconds
        bar = tqdm(total=c.epochs, initial=self.epoch, disable=not self.progress, unit="epoch", leave=False,
                   dynamic_ncols=True)
        self.result.stopped = "completed"
        try:
            with _stop_on_ctrl_c(self), _blas_limit(c.blas_threads, self.model):
                while self.epoch < c.epochs:
                    if self.permutation is None:
                        self.permutation = self.rng.permutation(n)
                    while self.step_in_epoch < n_batches:
                        if self.stop_requested or (max_steps is not None and self.step >= max_steps):
                            self.result.stopped = "interrupted" if self.stop_requested else "max_steps"
                            return self._finish(start, save=True)
                        idx = self.permutation[self.step_in_epoch * c.batch_size:
                                               (self.step_in_epoch + 1) * c.batch_size]
                        value = self._train_step(_rows(self.train_data, idx), n_batches)
                        if self.callback is not None:
                            self.callback(self, self.step, value)
                    stop = self._end_epoch(n_batches)
                    bar.update(1)
                    bar.set_postfix(loss=f"{self.result.train_loss[-1]:.2f}",
                                    val=f"{self.result.validation_loss[-1]:.2f}",
                                    best=f"{self.result.best_validation:.2f}")
                    self.result.seconds = time.perf_counter() - start
                    self.save()
                    if stop:
                        self.result.stopped = "early_stopping"
                        break
        finally:
            bar.close()
        return self._finish(start, save=False)

    def _finish(self, start: float, save: bool) -> TrainResult:
        self.result.seconds = time.perf_counter() - start
        self.result.steps = self.step
        if save:
            self.save()
        if self.result.stopped not in ("interrupted", "max_steps") and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        return self.result


def resume(out_dir: str | Path, train_data: Any, validation_data: Any, progress: bool = True,
           epochs: int | None = None, callback: Callable[[Trainer, int, float], None] | None = None) -> Trainer:
    """A Trainer that continues from ``out_dir/checkpoint.npz`` (``epochs`` may extend the run)."""
    path = _check_path(out_dir, "out_dir") / CHECKPOINT_NAME
    if epochs is not None:
        check_count(epochs, "epochs")
    if callback is not None:
        check_callable(callback, "callback")
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume: no {CHECKPOINT_NAME} in {out_dir}")
    checkpoint = load_checkpoint(path)
    if checkpoint.kind != "checkpoint":
        raise CheckpointError(f"{path}: a final model, not a training checkpoint")
    try:
        config = TrainConfig.from_dict(checkpoint.train_config)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: the stored training configuration is invalid ({error})") from None
    if epochs is not None:
        config = replace(config, epochs=epochs)  # validated again
    trainer = Trainer(checkpoint.model, train_data, validation_data, config, out_dir=out_dir,
                      data_info=checkpoint.data, progress=progress, callback=callback)
    trainer.load_state_dict(checkpoint)
    return trainer
