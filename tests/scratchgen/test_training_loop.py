"""The training loop and its checkpoints: learning, save/load, exact resumption, seeds, the NaN guard,
early stopping, and the refusal of files that are not checkpoints."""
from __future__ import annotations

import json
import math
import signal
import threading

import numpy as np
import pytest

import autograd_lite as al
from scratchgen import __version__
from scratchgen.data import load_digits
from scratchgen.models import VAE, HierarchicalVAE, HierarchicalVAEConfig, VAEConfig
from scratchgen.training import (
    CHECKPOINT_NAME,
    MODEL_NAME,
    CheckpointError,
    NonFiniteLossError,
    TrainConfig,
    Trainer,
    load_checkpoint,
    resume,
    write_checkpoint,
)

BATCH, N_TRAIN = 50, 300
N_BATCHES = N_TRAIN // BATCH  # steps per epoch


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return load_digits("train")[0][:N_TRAIN], load_digits("validation")[0][:60]


def tiny(kind: str = "vae", **overrides):
    values = dict(hidden=(16,), latent_dim=2, seed=0, iwae_k=2) | overrides
    if kind == "hvae":
        return HierarchicalVAE(HierarchicalVAEConfig(top_latent_dim=2, **values))
    return VAE(VAEConfig(**values))


def config(**overrides) -> TrainConfig:
    return TrainConfig(**(dict(epochs=3, batch_size=BATCH, lr=1e-2, patience=0, seed=0) | overrides))


def same_weights(a: dict, b: dict, atol: float = 0.0) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=0, atol=atol) for k in a)


def test_a_short_run_improves_the_validation_loss(data):
    """Five epochs on 300 digits lower the validation loss (-L_k in nats) by over 20 nats from its value at
    initialisation, and the result records every epoch."""
    train, validation = data
    model = tiny()
    initial = model.validation_loss(model.to_tensor(model.check_data(validation)), np.random.default_rng([0, 7919]))
    result = Trainer(model, train, validation, config(epochs=5), progress=False).fit()
    assert result.stopped == "completed" and result.epochs_done == 5 and result.steps == 5 * N_BATCHES
    assert len(result.train_loss) == len(result.validation_loss) == 5
    assert result.validation_loss[-1] < initial - 20
    assert result.best_validation == min(result.validation_loss)
    assert result.train_loss[-1] < result.train_loss[0]


@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_write_then_load_gives_the_same_model(kind, data, tmp_path):
    """A model written by write_checkpoint loads with the same configuration, exactly the same weights, and
    exactly the same bounds, likelihood estimates and samples for a fixed seed."""
    model = tiny(kind, dropout=0.2, likelihood="bernoulli")
    Trainer(model, *data, config(epochs=1), progress=False).fit()
    path = tmp_path / "model.npz"
    write_checkpoint(path, model, kind="model", metrics={"test_nll": 1.5})
    loaded = load_checkpoint(path)
    assert loaded.kind == "model" and loaded.metrics == {"test_nll": 1.5} and loaded.library_version == __version__
    assert loaded.config == json.loads(model.config.to_json()) and loaded.model.config == model.config
    assert type(loaded.model) is type(model) and not loaded.model.training
    ours, theirs = model.state_dict(), loaded.model.state_dict()
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert ours[name].dtype == theirs[name].dtype
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    x = data[1][:5]
    model.eval()
    with al.no_grad():
        np.testing.assert_array_equal(model.elbo(x, rng=0).elbo.numpy(), loaded.model.elbo(x, rng=0).elbo.numpy())
    np.testing.assert_array_equal(model.log_likelihood(x, k=20, rng=0), loaded.model.log_likelihood(x, k=20, rng=0))
    np.testing.assert_array_equal(model.sample(4, rng=1), loaded.model.sample(4, rng=1))


# ----- resuming ---------------------------------------------------------------------------------------------------
_REFERENCE: dict = {}


def uninterrupted(data, dropout: float):
    """The trainer of a 3-epoch run without interruption (cached per dropout rate)."""
    if dropout not in _REFERENCE:
        trainer = Trainer(tiny(dropout=dropout, input_dropout=dropout / 2), *data, config(), progress=False)
        trainer.fit()
        _REFERENCE[dropout] = trainer
    return _REFERENCE[dropout]


def stop_at(steps, how):
    """A callback that interrupts at the given steps: by ``stop_requested`` (what Ctrl-C sets) or by a real
    SIGINT delivered to the process."""
    def callback(trainer, step, loss):
        if step in steps:
            if how == "sigint":
                signal.raise_signal(signal.SIGINT)
            else:
                trainer.stop_requested = True
    return callback


RESUME_CASES = {
    # name: (how, steps at which to stop, dropout)
    "max_steps mid-epoch": ("max_steps", [9], 0.0),
    "max_steps mid-epoch, dropout": ("max_steps", [9], 0.2),
    "max_steps in the first epoch (before any validation), dropout": ("max_steps", [3], 0.2),
    "max_steps at an epoch boundary, dropout": ("max_steps", [2 * N_BATCHES], 0.2),
    "callback mid-epoch, dropout": ("callback", [8], 0.2),
    "callback at an epoch boundary, dropout": ("callback", [N_BATCHES], 0.2),
    "SIGINT mid-epoch, dropout": ("sigint", [10], 0.2),
    "twice, dropout": ("max_steps", [5, 2 * N_BATCHES + 1], 0.2),
}


@pytest.mark.parametrize("case", RESUME_CASES)
def test_an_interrupted_run_resumes_to_the_same_weights(case, data, tmp_path):
    """Interrupting a run (max_steps, stop_requested from a callback, or a real Ctrl-C), resuming from its
    checkpoint and fitting to the end gives the weights, optimizer step counts and loss history of an
    uninterrupted run with the same seed."""
    how, steps, dropout = RESUME_CASES[case]
    if how == "sigint" and threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C is only caught in the main thread")
    reference = uninterrupted(data, dropout)
    handler = signal.getsignal(signal.SIGINT)
    trainer = Trainer(tiny(dropout=dropout, input_dropout=dropout / 2), *data, config(), out_dir=tmp_path,
                      progress=False, callback=None if how == "max_steps" else stop_at(steps, how))
    for stop in steps:
        result = trainer.fit(max_steps=stop if how == "max_steps" else None)
        assert result.stopped == ("max_steps" if how == "max_steps" else "interrupted")
        assert result.steps == stop and (tmp_path / CHECKPOINT_NAME).is_file()
        trainer = resume(tmp_path, *data, progress=False, callback=trainer.callback)
        assert trainer.step == stop
    assert signal.getsignal(signal.SIGINT) is handler  # the Ctrl-C handler is put back
    result = trainer.fit()
    assert result.stopped == "completed" and result.steps == 3 * N_BATCHES and result.epochs_done == 3
    assert same_weights(trainer.model.state_dict(), reference.model.state_dict(), atol=1e-6)
    ours, theirs = trainer.optimizer.state_dict(), reference.optimizer.state_dict()
    assert int(ours["step_count"]) == int(theirs["step_count"]) == 3 * N_BATCHES
    np.testing.assert_array_equal(ours["param_steps"], theirs["param_steps"])
    np.testing.assert_allclose(result.train_loss, reference.result.train_loss, rtol=1e-6)
    np.testing.assert_allclose(result.validation_loss, reference.result.validation_loss, rtol=1e-6)
    assert result.best_epoch == reference.result.best_epoch


def test_a_run_with_ema_and_lr_decay_resumes_to_the_same_weights(data, tmp_path):
    """With an EMA of the weights and plateau learning-rate decay, an interrupted and resumed run ends with the
    uninterrupted run's weights, EMA averages, learning rate and validation curve."""
    settings = config(epochs=4, ema_decay=0.9, lr_patience=1, lr_factor=0.5, lr=0.05)
    reference = Trainer(tiny(dropout=0.2), *data, settings, progress=False)
    reference.fit()
    trainer = Trainer(tiny(dropout=0.2), *data, settings, out_dir=tmp_path, progress=False)
    trainer.fit(max_steps=N_BATCHES + 2)
    trainer = resume(tmp_path, *data, progress=False)
    result = trainer.fit()
    assert same_weights(trainer.model.state_dict(), reference.model.state_dict(), atol=1e-6)
    for ours, theirs in zip(trainer.ema.shadow, reference.ema.shadow):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert trainer.optimizer.lr == reference.optimizer.lr
    np.testing.assert_allclose(result.validation_loss, reference.result.validation_loss, rtol=1e-6)


def test_the_linear_schedule_decays_every_optimizer_to_zero_and_resumes(data, tmp_path):
    """lr_schedule "linear": step k of K runs at lr (1 - k / K) in each optimizer (a GAN's two, at their own base
    rates); an interrupted and resumed run keeps the schedule and ends with the uninterrupted run's weights."""
    from scratchgen.models import GAN, GANConfig

    points = np.random.default_rng(0).standard_normal((120, 2))
    gan = GAN(GANConfig(data="ring", generator_hidden=(8,), discriminator_hidden=(8,), latent_dim=2,
                        lr_scale_discriminator=4.0, validation_samples=20))
    settings = TrainConfig(epochs=2, batch_size=40, lr=1e-2, patience=0, lr_schedule="linear", select_best=False)
    seen = []
    trainer = Trainer(gan, points, points[:20], settings, progress=False,
                      callback=lambda t, step, loss: seen.append([o.lr for o in t.optimizers.values()]))
    trainer.fit()
    total = 2 * 3
    expected = [[4e-2 * (1 - k / total), 1e-2 * (1 - k / total)] for k in range(total)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    settings = config(epochs=3, lr=0.05, lr_schedule="linear")
    reference = Trainer(tiny(), *data, settings, progress=False)
    reference.fit()
    trainer = Trainer(tiny(), *data, settings, out_dir=tmp_path, progress=False)
    trainer.fit(max_steps=N_BATCHES + 2)
    trainer = resume(tmp_path, *data, progress=False)
    trainer.fit()
    assert same_weights(trainer.model.state_dict(), reference.model.state_dict(), atol=1e-6)
    assert trainer.optimizer.lr == reference.optimizer.lr == pytest.approx(0.05 / (3 * N_BATCHES))
    with pytest.raises(ValueError, match="lr_schedule"):
        config(lr_schedule="cosine")
    with pytest.raises(ValueError, match="lr_patience"):
        config(lr_schedule="linear", lr_patience=2)


def test_validation_and_the_best_model_use_the_ema_weights(data, tmp_path):
    """With ema_decay > 0 the validation loss is that of the averaged weights, and the run ends holding the
    average at the best epoch, while the checkpoint keeps the raw weights for resuming."""
    trainer = Trainer(tiny(), *data, config(epochs=2, lr=0.05, ema_decay=0.5), out_dir=tmp_path, progress=False)
    result = trainer.fit()
    assert result.best_epoch == 2  # still improving: the final average is the best one
    for p, average in zip(trainer.model.parameters(), trainer.ema.shadow):
        np.testing.assert_array_equal(p.data, average)
    validation = trainer.model.to_tensor(trainer.validation_data)
    loss = trainer.model.validation_loss(validation, np.random.default_rng([0, 7919]))
    assert loss == pytest.approx(result.best_validation, rel=1e-6)
    raw = load_checkpoint(tmp_path / CHECKPOINT_NAME).state["model"]
    assert not same_weights(raw, trainer.model.state_dict(), atol=1e-6)


def test_resume_can_extend_a_finished_run(data, tmp_path):
    """resume(..., epochs=4) after a finished 3-epoch run trains one more epoch, continuing the history."""
    Trainer(tiny(), *data, config(), out_dir=tmp_path, progress=False).fit()
    trainer = resume(tmp_path, *data, progress=False, epochs=4)
    assert trainer.epoch == 3
    result = trainer.fit()
    assert result.epochs_done == 4 and result.steps == 4 * N_BATCHES and len(result.validation_loss) == 4
    np.testing.assert_allclose(result.validation_loss[:3], uninterrupted(data, 0.0).result.validation_loss[:3])


def test_resume_refuses_a_missing_checkpoint_and_a_final_model(data, tmp_path):
    """resume from a folder without checkpoint.npz is a FileNotFoundError; from a final model.npz alone, a
    CheckpointError."""
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        resume(tmp_path, *data, progress=False)
    write_checkpoint(tmp_path / CHECKPOINT_NAME, tiny(), kind="model")
    with pytest.raises(CheckpointError, match="a final model, not a training checkpoint"):
        resume(tmp_path, *data, progress=False)


# ----- seeds ------------------------------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_run_and_another_seed_another(data):
    """Two runs with the same seeds end with exactly the same weights and losses; another training seed
    (shuffling and noise) or another model seed (initial weights) gives different weights."""
    def run(train_seed=0, model_seed=0):
        trainer = Trainer(tiny(seed=model_seed, dropout=0.2), *data, config(epochs=1, seed=train_seed),
                          progress=False)
        return trainer.fit(), trainer.model.state_dict()

    (result_a, a), (result_b, b) = run(), run()
    assert same_weights(a, b) and result_a.train_loss == result_b.train_loss
    assert result_a.validation_loss == result_b.validation_loss
    assert not same_weights(a, run(train_seed=1)[1], atol=1e-4)
    assert not same_weights(a, run(model_seed=1)[1], atol=1e-4)


def test_validation_never_moves_the_training_stream(data):
    """Runs validated on different images (60 or 20) end with the same weights: validation draws from its own
    generator, not the one that shuffles and draws the training noise."""
    train, validation = data
    weights = []
    for held_out in (validation, validation[:20]):
        trainer = Trainer(tiny(dropout=0.2), train, held_out, config(epochs=2), progress=False)
        trainer.fit()
        weights.append(trainer.model.state_dict())
    assert same_weights(*weights)


# ----- the NaN guard and early stopping ------------------------------------------------------------------------
def poison(model, at_call: int, value: float = math.nan):
    """Make the model's training loss ``value`` at its ``at_call``-th evaluation."""
    original, calls = model.training_loss, []

    def training_loss(x, rng, epoch=0.0):
        calls.append(1)
        loss = original(x, rng, epoch)
        return loss * value if len(calls) == at_call else loss

    model.training_loss = training_loss


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_non_finite_loss_stops_training_naming_the_step_and_the_last_finite_loss(value, data):
    """A NaN or inf loss at step 3 raises NonFiniteLossError naming step 3 and the loss of step 2, before
    any update poisons the weights."""
    model = tiny()
    poison(model, 3, value)
    losses = []
    trainer = Trainer(model, *data, config(), progress=False, callback=lambda t, step, loss: losses.append(loss))
    with pytest.raises(NonFiniteLossError) as error:
        trainer.fit()
    message = str(error.value)
    assert f"is {value} at step 3 " in message
    assert f"the last finite loss was {losses[1]:.6g} at step 2" in message and "\n" not in message
    assert len(losses) == 2 and trainer.step == 2
    assert all(np.all(np.isfinite(w)) for w in model.state_dict().values())


def test_a_non_finite_first_loss_says_so(data):
    """A NaN loss at the very first step raises NonFiniteLossError saying it is the first step."""
    model = tiny()
    poison(model, 1)
    with pytest.raises(NonFiniteLossError, match="at the first step"):
        Trainer(model, *data, config(), progress=False).fit()


def test_early_stopping_keeps_the_best_weights(data, tmp_path):
    """With patience 1 and validation losses 5, 4, 6, ... the run stops after epoch 3 with
    stopped == "early_stopping", and the model (and model.npz) holds the weights of epoch 2, not epoch 3."""
    model = tiny()
    scripted = iter([5.0, 4.0, 6.0, 7.0, 8.0])
    model.validation_loss = lambda x, rng: next(scripted)
    at_epoch_end = {}

    def record(trainer, step, loss):
        if step % N_BATCHES == 0:
            at_epoch_end[step // N_BATCHES] = trainer.model.state_dict()

    result = Trainer(model, *data, config(epochs=5, patience=1), out_dir=tmp_path, progress=False,
                     callback=record).fit()
    assert result.stopped == "early_stopping" and result.epochs_done == 3
    assert result.best_epoch == 2 and result.best_validation == 4.0
    assert same_weights(model.state_dict(), at_epoch_end[2])
    assert not same_weights(model.state_dict(), at_epoch_end[3], atol=1e-6)
    assert same_weights(load_checkpoint(tmp_path / MODEL_NAME).model.state_dict(), at_epoch_end[2])
    assert same_weights(load_checkpoint(tmp_path / CHECKPOINT_NAME).model.state_dict(), at_epoch_end[3])


def test_a_model_that_cannot_improve_stops_early(data):
    """With a learning rate (1e-30) too small to move float32 weights, the validation loss never improves
    after epoch 1 and patience 1 stops the run after epoch 2."""
    model = tiny()
    initial = model.state_dict()
    result = Trainer(model, *data, config(epochs=10, patience=1, lr=1e-30), progress=False).fit()
    assert result.stopped == "early_stopping" and result.epochs_done == 2 and result.best_epoch == 1
    assert result.validation_loss[0] == result.validation_loss[1]
    assert same_weights(model.state_dict(), initial, atol=1e-20)


def test_trainer_refuses_bad_data_naming_the_split(data):
    """Bad training or validation images raise a ValueError naming train_data or validation_data."""
    train, validation = data
    with pytest.raises(ValueError, match="^train_data must hold grey levels"):
        Trainer(tiny(), train + 17, validation, config(), progress=False)
    with pytest.raises(ValueError, match="^validation_data contains NaN"):
        Trainer(tiny(), train, np.full((3, 64), np.nan), config(), progress=False)


# ----- files that are not checkpoints -----------------------------------------------------------------------------
def test_load_checkpoint_of_a_missing_file_is_file_not_found(tmp_path):
    """A path that does not exist (or is a folder) raises FileNotFoundError."""
    for path in (tmp_path / "nothing.npz", tmp_path):
        with pytest.raises(FileNotFoundError, match="no such checkpoint"):
            load_checkpoint(path)


def _rewritten(path, **changes):
    """The checkpoint at ``path`` rewritten by autograd_lite.save with some entries replaced."""
    state = al.load(path)
    state.update(changes)
    al.save(state, path)
    return path


def _foreign_npz(path):
    np.savez(path, weights=np.random.default_rng(0).standard_normal((3, 4)), bias=np.zeros(3))
    return path


def _npy(path):
    with open(path, "wb") as f:
        np.save(f, np.ones(3))
    return path


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _with_config(path, change):
    values = json.loads(str(al.load(path)["config"])) | change
    return _rewritten(path, config=np.array(json.dumps(values)))


BAD_FILES = {
    "np.savez of random arrays": (_foreign_npz, "not written by autograd_lite.save"),
    "an autograd_lite file without scratchgen's keys": (
        lambda p: (al.save({"weights": np.ones(3)}, p), p)[1], "not a scratchgen checkpoint"),
    "another format name": (lambda p: _rewritten(p, format=np.array("pickle-jar")), "not a scratchgen checkpoint"),
    "truncated": (_truncated, "truncated or corrupt"),
    "empty": (lambda p: (p.write_bytes(b""), p)[1], "truncated or corrupt"),
    "text": (lambda p: (p.write_text("model weights\nline two\n"), p)[1], "truncated or corrupt"),
    "a .npy array": (_npy, "single array"),
    "weights of another latent_dim": (lambda p: _with_config(p, {"latent_dim": 3}), "do not fit the stored config"),
    "another hidden size": (lambda p: _with_config(p, {"hidden": [8]}), "do not fit the stored config"),
    "another model kind": (lambda p: _with_config(p, {"kind": "hvae"}), "do not fit the stored config"),
    "an invalid stored config": (lambda p: _with_config(p, {"latent_dim": 0}), "does not build a model"),
    "an unknown config field": (lambda p: _with_config(p, {"colour": "red"}), "does not build a model"),
    "config not JSON": (lambda p: _rewritten(p, config=np.array("{latent_dim: 2")), "not valid JSON"),
    "no config": (lambda p: _rewritten(p, config=np.ones(2)), "no 'config' entry"),
    "no weights": (lambda p: _rewritten(p, model=np.ones(2)), "no model weights"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_load_checkpoint_refuses_files_that_are_not_checkpoints(case, tmp_path):
    """A foreign, truncated or inconsistent file raises CheckpointError (a ValueError) whose message is one
    line naming the file and the reason."""
    path = tmp_path / "checkpoint.npz"
    write_checkpoint(path, tiny())
    load_checkpoint(path)  # the file was fine before the change
    make, reason = BAD_FILES[case]
    make(path)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert isinstance(error.value, ValueError)
    assert reason in message and str(path) in message and "\n" not in message
