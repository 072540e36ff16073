"""Lecture section 6: the variational auto-encoder on the 8x8 digits, trained with the IWAE bound.

Two models are trained with ``scratchgen.training.Trainer``: the README's VAE (``default_settings("vae")``:
MLP 64-256-256, latent 16, a categorical decoder over the 17 grey levels, IWAE k = 10, dropout) on a
bounded budget of epochs, and the same model with a 2-D latent space, whose decoder can be drawn as a map.
The test numbers on the figures are nats per image: the NLL is the IWAE estimate -L_k with k samples (k =
1000 by default), the -ELBO is the bound the VAE maximises (averaged over 10 draws of z).

Figures:
  sec6_reconstructions.png   test digits, and their reconstructions E[x|z] at z = mu_phi(x)
  sec6_samples.png           z ~ N(0, I), then x ~ p(x|z) and E[x|z] for the same z
  sec6_interpolation.png     decoder means along straight lines between the codes of two test digits
  sec6_latent_manifold.png   the 2-D model: E[x|z] over a grid of N(0, I) quantiles, and the test codes
  sec6_training_curves.png   training and validation loss per epoch, both models

``run(out_dir, quick, full)`` also returns the measured numbers (the tour's report shows them); with ``full``
(``python demos/tour.py --full --sections vae``) both models train the README's epochs (early stopping on).

Run: python demos/sec6_vae.py [--quick]
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from autograd_lite import no_grad  # noqa: E402
from scratchgen.cli import default_settings, evaluate_model, load_data  # noqa: E402
from scratchgen.data import load_digits  # noqa: E402
from scratchgen.distributions import ndtri  # noqa: E402
from scratchgen.models import VAE  # noqa: E402
from scratchgen.plotting import demo_command_line, digit_canvas, save_figure  # noqa: E402
from scratchgen.training import Trainer  # noqa: E402

EPOCHS = 60            # the demo's budget for the README model (the README trains up to 300, patience 40)
README_EPOCHS = default_settings("vae")[1].epochs
EPOCHS_2D = 40         # ... and for the 2-D model
QUICK_EPOCHS = 3
EVAL_K, QUICK_EVAL_K = 1000, 50
GRID = 15              # the manifold figure decodes GRID x GRID codes
PAIRS = ((0, 6), (1, 7), (3, 8), (4, 9))  # interpolate between a test digit of each class of a pair


def settings(quick: bool, latent_dim: int | None = None, full: bool = False):
    """(VAEConfig, TrainConfig): the README's VAE with the demo's epoch budget (``full``: the README's epochs), or
    the tiny quick model."""
    config, train = default_settings("vae", quick=quick)
    if latent_dim is not None:
        config = replace(config, latent_dim=latent_dim)
    if full and not quick:
        return config, train
    epochs = QUICK_EPOCHS if quick else (EPOCHS if latent_dim is None else EPOCHS_2D)
    return config, replace(train, epochs=epochs)


def train(config, train_config, data: dict, k: int) -> dict:
    """Train one VAE (best weights on validation kept) and evaluate it on the test split."""
    model = VAE(config)
    start = time.perf_counter()
    steps = train_config.epochs * math.ceil(len(data["train"]) / train_config.batch_size)
    with tqdm(total=steps, desc=f"VAE latent {config.latent_dim}", unit="step", leave=False, disable=None) as bar:
        trainer = Trainer(model, data["train"], data["validation"], train_config, progress=False,
                          callback=lambda _trainer, _step, _loss: bar.update(1))
        result = trainer.fit()
    if result.stopped == "interrupted":  # the Trainer turned a Ctrl-C into an early stop: the demo stops too
        raise KeyboardInterrupt
    metrics = evaluate_model(model, data["test"], k=k)
    seconds = time.perf_counter() - start
    print(f"    VAE latent {config.latent_dim}: {result.epochs_done} epochs in {result.seconds:.1f} s, best "
          f"validation {result.best_validation:.2f} at epoch {result.best_epoch}; test NLL (k={k}) "
          f"{metrics['test_nll']:.2f}, -ELBO {metrics['test_neg_elbo']:.2f} nats ({seconds:.1f} s in all)",
          flush=True)
    return {"model": model, "result": result, "metrics": metrics, "config": config, "train_config": train_config}


def run_experiment(quick: bool = False, full: bool = False) -> dict:
    """Train the README VAE and the 2-D one; everything the figures show."""
    data = load_data("digits")
    k = QUICK_EVAL_K if quick else EVAL_K
    main_model = train(*settings(quick, full=full), data, k)
    flat = train(*settings(quick, latent_dim=2, full=full), data, k)
    return {"vae": main_model, "vae2d": flat, "data": data, "k": k, "quick": quick}


# ----- drawing ----------------------------------------------------------------------------------------------
def show(ax, canvas: np.ndarray, title: str = "") -> None:
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=16, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def numbers(run: dict, k: int) -> str:
    m = run["metrics"]
    return (f"test NLL (IWAE, k={k}) = {m['test_nll']:.2f} +- {m['test_nll_stderr']:.2f} nats, "
            f"test -ELBO = {m['test_neg_elbo']:.2f} nats")


def describe(run: dict, quick: bool) -> str:
    c, r = run["config"], run["result"]
    hidden = "-".join(str(h) for h in (64, *c.hidden))
    objective = f"IWAE k={c.iwae_k}" if c.objective == "iwae" else "ELBO"
    text = (f"VAE MLP {hidden}, latent {c.latent_dim}, {c.likelihood}, {objective}; {r.epochs_done} epochs "
            f"(best {r.best_epoch})")
    if quick:
        return text + " [quick settings]"
    if run["train_config"].epochs >= README_EPOCHS:
        return text + f" [the README's settings: up to {README_EPOCHS} epochs]"
    return text + f" [the README trains up to {README_EPOCHS}]"


def figure_reconstructions(experiment: dict, out_dir: str) -> str:
    run, quick = experiment["vae"], experiment["quick"]
    x = experiment["data"]["test"][:48].reshape(-1, 8, 8)
    reconstructions = run["model"].reconstruct(x)
    columns = 16
    blocks = []
    for start in range(0, len(x), columns):
        blocks += [x[start:start + columns], reconstructions[start:start + columns]]
    canvas = digit_canvas(np.concatenate(blocks), columns)
    fig, ax = plt.subplots(figsize=(10, 4.6))
    show(ax, canvas)
    ax.set_yticks([4.5 + 9 * r for r in range(len(blocks))])
    ax.set_yticklabels(["test digits x", "E[x | z = mu(x)]"] * (len(blocks) // 2), fontsize=8)
    ax.set_title(f"reconstructions: {describe(run, quick)}\n{numbers(run, experiment['k'])}", fontsize=9)
    return save_figure(fig, out_dir, "sec6_reconstructions.png", quick)


def figure_samples(experiment: dict, out_dir: str) -> str:
    run, quick = experiment["vae"], experiment["quick"]
    model = run["model"]
    n = 64
    draws = model.sample(n, rng=1)
    means = model.sample(n, rng=1, mean=True)  # the same seed draws the same z
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4))
    show(axes[0], digit_canvas(draws, 8), "x ~ p(x|z), z ~ N(0, I)")
    show(axes[1], digit_canvas(means, 8), "E[x|z] for the same z")
    fig.suptitle(f"samples: {describe(run, quick)}\n{numbers(run, experiment['k'])}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec6_samples.png", quick)


def figure_interpolation(experiment: dict, out_dir: str, steps: int = 10) -> str:
    run, quick = experiment["vae"], experiment["quick"]
    x, labels = experiment["data"]["test"], load_test_labels()
    rows = []
    for a, b in PAIRS:
        x_a, x_b = x[np.flatnonzero(labels == a)[0]], x[np.flatnonzero(labels == b)[0]]
        rows.append(np.concatenate([x_a.reshape(1, 8, 8), run["model"].interpolate(x_a, x_b, steps),
                                    x_b.reshape(1, 8, 8)]))
    columns = steps + 2
    fig, ax = plt.subplots(figsize=(9, 4.2))
    show(ax, digit_canvas(np.concatenate(rows), columns))
    ax.set_xticks([4.5 + 9 * c for c in range(columns)])
    ax.set_xticklabels(["x_a"] + [f"{t:.2g}" for t in np.linspace(0, 1, steps)] + ["x_b"], fontsize=8)
    ax.set_xlabel("t:  E[x | z = (1 - t) mu(x_a) + t mu(x_b)]  (first and last columns: the test digits)", fontsize=8)
    ax.set_yticks([4.5 + 9 * r for r in range(len(PAIRS))])
    ax.set_yticklabels([f"{a} -> {b}" for a, b in PAIRS], fontsize=8)
    ax.set_title(f"interpolation in z: {describe(run, quick)}\n{numbers(run, experiment['k'])}", fontsize=9)
    return save_figure(fig, out_dir, "sec6_interpolation.png", quick)


def load_test_labels() -> np.ndarray:
    return load_digits("test")[1]


def latent_grid(n: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """The codes z = (Phi^-1(u_1), Phi^-1(u_2)) for u on an even grid inside (0, 1): equal prior mass apart."""
    quantiles = ndtri(np.linspace(0.5 / n, 1 - 0.5 / n, n))
    z1, z2 = np.meshgrid(quantiles, quantiles[::-1])  # rows top to bottom: z_2 from high to low
    return quantiles, np.stack([z1.ravel(), z2.ravel()], axis=1)


def decode_means(model: VAE, z: np.ndarray) -> np.ndarray:
    """E[x|z] for the given codes, (n, 8, 8)."""
    model.eval()
    with no_grad():
        out = model.decode(model.to_tensor(z)).numpy()
    return model.pixels.mean(out).reshape(-1, 8, 8)


def encode_means(model: VAE, x: np.ndarray) -> np.ndarray:
    model.eval()
    with no_grad():
        mu, _ = model.encode(model.to_tensor(model.check_data(x)))
    return mu.numpy()


def figure_latent_manifold(experiment: dict, out_dir: str) -> str:
    run, quick = experiment["vae2d"], experiment["quick"]
    model = run["model"]
    quantiles, z = latent_grid()
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.2))
    show(axes[0], digit_canvas(decode_means(model, z), GRID))
    centres = [4.5 + 9 * c for c in range(GRID)]
    labels = [f"{q:.1f}" for q in quantiles]
    axes[0].set_xticks(centres[::2])
    axes[0].set_xticklabels(labels[::2], fontsize=7)
    axes[0].set_yticks(centres[::2])
    axes[0].set_yticklabels(labels[::-1][::2], fontsize=7)
    axes[0].set_xlabel("z_1 = Phi^-1(u_1)")
    axes[0].set_ylabel("z_2 = Phi^-1(u_2)")
    axes[0].set_title(f"E[x|z] on a {GRID} x {GRID} grid of N(0, 1) quantiles (u evenly spaced in (0, 1))",
                      fontsize=9)
    mu = encode_means(model, experiment["data"]["test"])
    labels_test = load_test_labels()
    ax = axes[1]
    for digit in range(10):
        chosen = labels_test == digit
        ax.scatter(mu[chosen, 0], mu[chosen, 1], s=10, color=plt.cm.tab10(digit), label=str(digit))
    edge = quantiles[-1]
    ax.add_patch(plt.Rectangle((-edge, -edge), 2 * edge, 2 * edge, fill=False, ls="--", color="0.4",
                               label="the grid's extent"))
    ax.set_xlabel("z_1")
    ax.set_ylabel("z_2")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, markerscale=1.5, loc="upper right", ncol=2)
    ax.set_title("posterior means mu_phi(x) of the test digits, by class", fontsize=9)
    fig.suptitle(f"the 2-D latent space: {describe(run, quick)}\n{numbers(run, experiment['k'])}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec6_latent_manifold.png", quick)


def figure_training_curves(experiment: dict, out_dir: str) -> str:
    quick = experiment["quick"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    for ax, key in zip(axes, ("vae", "vae2d")):
        run = experiment[key]
        r, c = run["result"], run["config"]
        epochs = np.arange(1, len(r.train_loss) + 1)
        bound = f"-L_{c.iwae_k}" if c.objective == "iwae" else "-ELBO"
        ax.plot(epochs, r.train_loss, "o-" if quick else "-", ms=3,
                label=f"train {bound} (mean over the epoch's batches, dropout on)")
        ax.plot(epochs, r.validation_loss, "o-" if quick else "-", ms=3, label=f"validation {bound} (dropout off)")
        ax.axvline(r.best_epoch, color="k", ls=":", lw=1, label=f"best validation: {r.best_validation:.2f} "
                                                                 f"(epoch {r.best_epoch})")
        m = run["metrics"]
        ax.axhline(m["test_nll"], color="tab:green", ls="--", lw=1,
                   label=f"test NLL (k={experiment['k']}) {m['test_nll']:.2f}, -ELBO {m['test_neg_elbo']:.2f}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image")
        low = min(min(r.validation_loss), min(r.train_loss), m["test_nll"])
        high = max(max(r.validation_loss), max(r.train_loss))
        ax.set_ylim(low - 5, high + 5 if quick else min(high + 5, low + 40))  # the first epochs are far above
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(describe(run, quick), fontsize=9)
        ax.legend(fontsize=7.5)
    fig.suptitle("training curves (the loss the Trainer minimises; early stopping keeps the best validation "
                 "epoch's weights)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec6_training_curves.png", quick)


def summary(experiment: dict) -> dict:
    """The measured numbers behind the figures, for the tour's report."""
    result: dict = {}
    for key in ("vae", "vae2d"):
        run, k = experiment[key], experiment["k"]
        r, m, name = run["result"], run["metrics"], f"latent {run['config'].latent_dim}"
        result |= {f"{name}: epochs (best on validation)": f"{r.epochs_done} ({r.best_epoch})",
                   f"{name}: test NLL, IWAE k = {k} (nats)": m["test_nll"],
                   f"{name}: its standard error": m["test_nll_stderr"],
                   f"{name}: test -ELBO (nats)": m["test_neg_elbo"],
                   f"{name}: training seconds": r.seconds}
    return result


def run(out_dir: str = "demo_output", quick: bool = False, full: bool = False) -> tuple[list[str], dict]:
    """The figures and the measured numbers; ``full``: the README's epochs instead of the demo's budget."""
    # run_experiment(quick) when not full: the form a caller (or a test) that wraps it knows
    experiment = run_experiment(quick, full=True) if full else run_experiment(quick)
    figures = [figure_reconstructions(experiment, out_dir), figure_samples(experiment, out_dir),
               figure_interpolation(experiment, out_dir), figure_latent_manifold(experiment, out_dir),
               figure_training_curves(experiment, out_dir)]
    return figures, summary(experiment)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return run(out_dir, quick)[0]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
