"""Lecture section 5: the generative adversarial network, on the 8-mode ring and on the 8x8 digits.

A generator G(z) and a discriminator D(x) = sigmoid(f(x)) play the lecture's game
min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] (``scratchgen.models.gan``), trained with
``scratchgen.training.Trainer`` at the README's settings (``gan_settings``) on a bounded budget of steps.
The ring's numbers are the PacGAN protocol on 2500 samples (``metrics.mode_coverage``): the modes that get a
high-quality sample (within 3 std = 0.06 of a centre), out of 8, and the fraction of samples that are high
quality (the data itself: 98.9%).

Figures:
  sec5_gan_training.png   the ring, default game (non-saturating loss, packs of 2): G's samples over the data
                          at five moments of training, on D's decision surface D(x)
  sec5_gan_losses.png     the same budget and seed for the lecture's minimax loss, the non-saturating loss,
                          and the non-saturating loss with packing; modes covered and mean D(G(z)) over training
  sec5_gan_digits.png     the DCGAN pair's digits beside real test digits, with their Frechet digit distances

On the demo's budget (3000 steps of each ring game, 20 epochs of the digits; about a minute in all on two
cores) the GAN is still early in its game, and the figures show that stage: G's samples swing from one
side of the ring to another as D's surface turns against them; without packing, G settles on one mode
(non-saturating) or on a thin curve through the ring (minimax); with packs of 2, D can tell a collapsed
batch from a diverse one and G spreads out over the whole ring first, covering the modes long before its
samples are sharp (a mode counts as covered as soon as one sample lands within 0.06 of it: the
high-quality fraction is what tells a cloud from a ring). The DCGAN's digits are still one collapsed
glyph. The README's default run (``scratchgen train gan``: 100 epochs of 196 steps on the ring, 300 epochs
of the digits) trains far longer: on the ring it reaches all 8 modes with 94.4% of the samples high
quality (mean of seeds 0-4, ``bench/results.py``).

What the figures draw is the generator being trained, the G that D is playing against (so the surface and
the points belong together). The Trainer also keeps an EMA of G's weights (decay 0.999), the weights that
``scratchgen train gan`` saves; its numbers are on the panels too. While G still moves fast, the average of
its recent weights is no average of their samples: the EMA's samples sit in a blob inside the ring (no
high-quality sample at any snapshot of the demo's run); it becomes the better sampler once G settles, late
in the README's run.

The demo trains with one BLAS thread (``blas_threads=1``): on a busy machine two threads per process fight
for the cores, and the two ways of summing a product differ in the last bit, which a GAN's game amplifies
(5e-7 apart after 300 steps, different pictures after a few thousand): one thread gives the same figures
for the same seed on any number of cores.

``run(out_dir, quick, full)`` also returns the measured numbers (the tour's report shows them); with ``full``
(``python demos/tour.py --full --sections gan``) every game trains the README's epochs instead of the demo's
budget, about half an hour on two cores.

Run: python demos/sec5_gan.py [--quick]
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from autograd_lite import no_grad, ops  # noqa: E402
from scratchgen import metrics  # noqa: E402
from scratchgen.cli import gan_settings, load_data  # noqa: E402
from scratchgen.models import GAN  # noqa: E402
from scratchgen.plotting import demo_command_line, digit_canvas, save_figure  # noqa: E402
from scratchgen.training import Trainer  # noqa: E402

RING_STEPS = 3000          # steps of each ring run (the README trains 100 epochs of 196 steps: 19,600)
SNAPSHOTS = (0, 500, 1500, 2250, 3000)   # the moments of sec5_gan_training.png (0: the initial players)
CURVE_EVERY = 100          # steps between the coverage measurements of the curves
DIGIT_STEPS = 320          # DCGAN steps on the digits: 20 epochs of 16 (the README trains 300 epochs: 4,800)
QUICK_RING_STEPS, QUICK_SNAPSHOTS, QUICK_CURVE_EVERY, QUICK_DIGIT_STEPS = 40, (0, 10, 20, 30, 40), 10, 4
QUICK_CLASSIFIER_EPOCHS = 2  # quick runs score the digits with a briefly trained classifier (not comparable)
N_POINTS = 2500            # samples per coverage measurement (the PacGAN / VEEGAN protocol)
N_DIGITS = 350             # digits per Frechet distance: as many samples as there are validation digits
GRID, QUICK_GRID, EXTENT = 121, 41, 3.0   # D(x) is drawn on a GRID x GRID grid over [-EXTENT, EXTENT]^2
SEED, SAMPLE_SEED = 0, 1   # weights and training stream; the noise of every drawn or measured sample
VARIANTS = (  # (label, loss, pack) of sec5_gan_losses.png; the last is the README's game (gan_settings)
    ("minimax (the lecture's, saturating)", "minimax", 1),
    ("non-saturating", "non_saturating", 1),
    ("non-saturating + packing (m = 2)", "non_saturating", 2),
)


def ring_settings(quick: bool, loss: str | None = None, pack: int | None = None):
    """(GANConfig, TrainConfig): the README's ring GAN (or its quick version), with ``loss`` and ``pack``."""
    config, train = gan_settings("ring", quick=quick)
    overrides = {"seed": SEED} | ({"loss": loss} if loss else {}) | ({"pack": pack} if pack else {})
    return replace(config, **overrides), replace(train, seed=SEED, blas_threads=1)


def readme_steps(train_config, data: dict) -> int:
    """The steps of the README's run: its epochs of ceil(n / batch) steps."""
    return train_config.epochs * math.ceil(len(data["train"]) / train_config.batch_size)


def check_not_interrupted(result) -> None:
    """The Trainer turns a first Ctrl-C into an early stop; the demo (and the tour around it) stops with it."""
    if result.stopped == "interrupted":
        raise KeyboardInterrupt


# ----- what is measured during training ---------------------------------------------------------------------
def generator_samples(trainer: Trainer, n: int, ema: bool = False) -> np.ndarray:
    """n samples of G (the same noise every time), or of G with the EMA of its weights swapped in."""
    if ema and trainer.ema is not None:
        with trainer.ema.average_parameters():
            return trainer.model.sample(n, rng=SAMPLE_SEED)
    return trainer.model.sample(n, rng=SAMPLE_SEED)


def discriminator_probability(model: GAN, points: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(f(x)) at each point. A packed D (pack m > 1) judges m samples at once, so each point is
    judged as the pack (x, x, ..., x) of m copies of itself: the surface D shows a collapsed generator."""
    D, m = model.discriminator, model.config.pack
    D.eval()
    with no_grad():
        packs = D.prepare(model.to_tensor(np.repeat(points, m, axis=0)))  # rows x, x, ... -> (x, x, ...)
        probability = ops.sigmoid(D(packs)).numpy().astype(np.float64)
    return probability


def mean_d_of_fakes(model: GAN, samples: np.ndarray) -> float:
    """The mean of D(G(z)) over packs of m consecutive samples: near 0 when D rejects every fake, where the
    minimax loss log(1 - D(G(z))) has no gradient left."""
    D = model.discriminator
    D.eval()
    with no_grad():
        return float(ops.sigmoid(D(D.prepare(model.to_tensor(samples)))).numpy().mean())


def coverage(samples: np.ndarray) -> metrics.ModeCoverage:
    modes, std = metrics.toy_modes("ring")
    return metrics.mode_coverage(samples, modes, std)


def decision_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-EXTENT, EXTENT, size)
    x1, x2 = np.meshgrid(axis, axis)
    return axis, np.stack([x1.ravel(), x2.ravel()], axis=1)


def snapshot(trainer: Trainer, step: int, grid: np.ndarray) -> dict:
    """Everything sec5_gan_training.png draws at one moment: samples of G and of its EMA, and D on the grid."""
    samples, ema_samples = generator_samples(trainer, N_POINTS), generator_samples(trainer, N_POINTS, ema=True)
    return {"step": step, "samples": samples, "coverage": coverage(samples), "ema_coverage": coverage(ema_samples),
            "d_grid": discriminator_probability(trainer.model, grid)}


def train_ring(data: dict, label: str, loss: str, pack: int, quick: bool, snapshots=(), steps: int | None = None,
               every: int | None = None) -> dict:
    """One GAN on the ring for the demo's budget of steps (or ``steps``); the coverage curve (every ``every``
    steps) and the chosen snapshots are measured by the Trainer's callback, which runs after every step."""
    config, train_config = ring_settings(quick, loss, pack)
    steps = steps or (QUICK_RING_STEPS if quick else RING_STEPS)
    every = every or (QUICK_CURVE_EVERY if quick else CURVE_EVERY)
    _, grid = decision_grid(QUICK_GRID if quick else GRID)
    model = GAN(config)
    curve = {"step": [], "modes": [], "high_quality": [], "d_fake": []}
    pictures = []

    def measure(trainer: Trainer, step: int) -> None:
        if step in snapshots:
            pictures.append(snapshot(trainer, step, grid))
        if step % every == 0 or step == steps:
            samples = generator_samples(trainer, N_POINTS)
            c = coverage(samples)
            curve["step"].append(step)
            curve["modes"].append(c.modes_covered)
            curve["high_quality"].append(c.high_quality)
            curve["d_fake"].append(mean_d_of_fakes(trainer.model, samples))

    bar = tqdm(total=steps, desc=f"ring, {label}", unit="step", leave=False, disable=None)

    def after_step(trainer: Trainer, step: int, _loss: float) -> None:
        bar.update(1)
        measure(trainer, step)

    trainer = Trainer(model, data["train"], data["validation"], train_config, progress=False, callback=after_step)
    measure(trainer, 0)  # the players as initialised
    start = time.perf_counter()
    with bar:
        check_not_interrupted(trainer.fit(max_steps=steps))
    seconds = time.perf_counter() - start
    final = generator_samples(trainer, N_POINTS)
    result = {"label": label, "config": config, "train_config": train_config, "steps": trainer.step,
              "seconds": seconds, "samples": final, "coverage": coverage(final),
              "ema_coverage": coverage(generator_samples(trainer, N_POINTS, ema=True)),
              "d_fake": mean_d_of_fakes(model, final), "curve": curve, "snapshots": pictures,
              "full": steps >= readme_steps(train_config, data)}
    c, e = result["coverage"], result["ema_coverage"]
    print(f"    ring, {label}: {trainer.step} steps in {seconds:.1f} s; G covers {c.modes_covered}/8 modes, "
          f"{100 * c.high_quality:.1f}% high quality (EMA of G: {e.modes_covered}/8, "
          f"{100 * e.high_quality:.1f}%); mean D(G(z)) = {result['d_fake']:.2f}", flush=True)
    return result


def train_digits(data: dict, quick: bool, full: bool = False) -> dict:
    """The README's DCGAN pair on the digits for the demo's budget (``full``: the README's epochs); Frechet digit
    distances to the test split
    of N_DIGITS samples and of the N_DIGITS real validation digits (the same size: the estimate is biased
    upwards for small sets, so only equal sizes compare)."""
    config, train_config = gan_settings("digits", quick=quick)
    config, train_config = replace(config, seed=SEED), replace(train_config, seed=SEED, blas_threads=1)
    model = GAN(config)
    steps = readme_steps(train_config, data) if full else QUICK_DIGIT_STEPS if quick else DIGIT_STEPS
    bar = tqdm(total=steps, desc="digits, DCGAN", unit="step", leave=False, disable=None)
    trainer = Trainer(model, data["train"], data["validation"], train_config, progress=False,
                      callback=lambda _trainer, _step, _loss: bar.update(1))
    start = time.perf_counter()
    with bar:
        check_not_interrupted(trainer.fit(max_steps=steps))
    seconds = time.perf_counter() - start
    classifier = metrics.train_digit_classifier(seed=SEED, epochs=QUICK_CLASSIFIER_EPOCHS) if quick else None
    test, real = data["test"].reshape(-1, 64), data["validation"].reshape(-1, 64)[:N_DIGITS]
    samples = generator_samples(trainer, N_DIGITS).reshape(-1, 64)
    ema_samples = generator_samples(trainer, N_DIGITS, ema=True).reshape(-1, 64)
    result = {"config": config, "train_config": train_config, "steps": trainer.step, "seconds": seconds,
              "epochs": trainer.step / np.ceil(len(data["train"]) / train_config.batch_size),
              "samples": samples, "ema_samples": ema_samples, "real": data["test"][:len(samples)],
              "fdd": metrics.frechet_digit_distance(samples, test, classifier),
              "fdd_ema": metrics.frechet_digit_distance(ema_samples, test, classifier),
              "fdd_real": metrics.frechet_digit_distance(real, test, classifier), "n": len(real),
              "n_test": len(test), "full": full}
    print(f"    digits, DCGAN: {trainer.step} steps in {seconds:.1f} s; Frechet digit distance to the test digits "
          f"{result['fdd']:.1f} (EMA of G: {result['fdd_ema']:.1f}; real validation digits "
          f"{result['fdd_real']:.1f})", flush=True)
    return result


def run_experiment(quick: bool = False, full: bool = False) -> dict:
    """The three ring games (the default one with snapshots) and the digits' DCGAN; ``full``: each for the
    README's epochs, with the snapshots and the curve's spacing stretched in proportion."""
    ring = load_data("ring")
    snapshots, steps, every = (QUICK_SNAPSHOTS, None, None) if quick else (SNAPSHOTS, None, None)
    if full and not quick:
        steps = readme_steps(ring_settings(False)[1], ring)
        snapshots = tuple(round(s * steps / RING_STEPS) for s in SNAPSHOTS)
        every = round(CURVE_EVERY * steps / RING_STEPS)
    runs = [train_ring(ring, label, loss, pack, quick, snapshots if i == len(VARIANTS) - 1 else (), steps, every)
            for i, (label, loss, pack) in enumerate(VARIANTS)]
    digits = train_digits(load_data("digits"), quick, full=full and not quick)
    return {"ring": runs, "default": runs[-1], "digits": digits, "data": ring["test"], "quick": quick,
            "curve_every": every or (QUICK_CURVE_EVERY if quick else CURVE_EVERY)}


# ----- drawing ----------------------------------------------------------------------------------------------
def numbers(c: metrics.ModeCoverage) -> str:
    return f"{c.modes_covered}/8 modes, {100 * c.high_quality:.1f}% high quality"


def describe_ring(run: dict, quick: bool, packs: str | None = None) -> str:
    """The players and the budget; ``packs`` names several runs' pack sizes m (D's input is 2m wide)."""
    c, t = run["config"], run["train_config"]
    widths = "-".join(map(str, c.generator_hidden)), "-".join(map(str, c.discriminator_hidden))
    d_input = f"2m (m = {packs})" if packs else str(2 * c.pack)
    text = (f"MLPs G {c.latent_dim}-{widths[0]}-2, D {d_input}-{widths[1]}-1; Adam lr {t.lr:g} "
            f"(D x{c.lr_scale_discriminator:g}), batch {t.batch_size}; {run['steps']} steps, seed {SEED}")
    if quick:
        return text + " [quick settings]"
    if run["full"]:
        return text + f" [the README's settings: {t.epochs} epochs]"
    return text + f" [the README trains {t.epochs} epochs]"


def scatter_ring(ax, data: np.ndarray, samples: np.ndarray) -> None:
    ax.scatter(data[:, 0], data[:, 1], s=4, c="0.45", linewidths=0, label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:orange", alpha=0.6, linewidths=0, label="G(z)")
    ax.set_xlim(-EXTENT, EXTENT)
    ax.set_ylim(-EXTENT, EXTENT)
    ax.set_aspect("equal")
    ax.set_xticks([-2, 0, 2])
    ax.set_yticks([-2, 0, 2])


def figure_training(experiment: dict, out_dir: str) -> str:
    run, quick = experiment["default"], experiment["quick"]
    axis, _ = decision_grid(QUICK_GRID if quick else GRID)
    pictures, m = run["snapshots"], run["config"].pack
    fig, axes = plt.subplots(1, len(pictures), figsize=(3.3 * len(pictures) + 0.8, 4.1))
    levels = np.linspace(0, 1, 11)
    for ax, picture in zip(axes, pictures):
        surface = picture["d_grid"].reshape(len(axis), len(axis))
        filled = ax.contourf(axis, axis, surface, levels=levels, cmap="RdBu_r", alpha=0.55)
        if surface.min() < 0.5 < surface.max():
            ax.contour(axis, axis, surface, levels=[0.5], colors="k", linewidths=0.6, linestyles="--")
        scatter_ring(ax, experiment["data"], picture["samples"])
        ax.set_title(f"step {picture['step']}: G {numbers(picture['coverage'])}\n"
                     f"(EMA of G: {numbers(picture['ema_coverage'])})", fontsize=8)
    axes[0].legend(loc="upper left", fontsize=7, markerscale=3)
    bar = fig.colorbar(filled, ax=list(axes), fraction=0.015, pad=0.01)
    bar.set_label("D(x) = sigmoid(f(x))", fontsize=8)
    pack_note = (f"D judges packs of m = {m} samples: the surface is D(x, ..., x), the pack of {m} copies of x"
                 if m > 1 else "D judges one sample at a time")
    loss = run["config"].loss.replace("_", "-")
    fig.suptitle(f"the GAN on the ring at the README's settings ({loss} loss, packs of m = {m}): "
                 f"{describe_ring(run, quick)}\n"
                 f"filled: D's decision surface (red: 'real', blue: 'fake'; dashed: D = 1/2); {pack_note}",
                 fontsize=9)
    return save_figure(fig, out_dir, "sec5_gan_training.png", quick)


def figure_losses(experiment: dict, out_dir: str) -> str:
    runs, quick = experiment["ring"], experiment["quick"]
    packs = ", ".join(str(run["config"].pack) for run in runs)
    fig = plt.figure(figsize=(15.5, 4.8))
    grid = fig.add_gridspec(2, len(runs) + 1, width_ratios=[1] * len(runs) + [1.25], hspace=0.35, wspace=0.25)
    colours = ("tab:red", "tab:blue", "tab:green")
    for i, (run, colour) in enumerate(zip(runs, colours)):
        ax = fig.add_subplot(grid[:, i])
        scatter_ring(ax, experiment["data"], run["samples"])
        e = run["ema_coverage"]
        ax.set_title(f"{run['label']}\nG: {numbers(run['coverage'])}\nmean D(G(z)) = {run['d_fake']:.2f}; EMA of G: "
                     f"{e.modes_covered}/8, {100 * e.high_quality:.1f}%", fontsize=8, color=colour)
    modes_ax, d_ax = fig.add_subplot(grid[0, -1]), fig.add_subplot(grid[1, -1])
    for run, colour in zip(runs, colours):
        curve = run["curve"]
        modes_ax.plot(curve["step"], curve["modes"], "-", color=colour, lw=1.2, label=run["label"].split(" (")[0])
        d_ax.plot(curve["step"], curve["d_fake"], "-", color=colour, lw=1.2)
    modes_ax.set_ylim(-0.3, 8.3)
    modes_ax.set_yticks([0, 2, 4, 6, 8])
    modes_ax.set_ylabel("modes covered", fontsize=8)
    modes_ax.legend(fontsize=7, loc="upper left")
    d_ax.set_ylim(0, 1)
    d_ax.set_ylabel("mean D(G(z))", fontsize=8)
    d_ax.set_xlabel("training step", fontsize=8)
    for ax in (modes_ax, d_ax):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(f"three games on the ring, the same players, budget and seed: {describe_ring(runs[-1], quick, packs)}"
                 f"\n{N_POINTS} samples of G each; right: G's modes covered and the mean D(G(z)) every "
                 f"{experiment['curve_every']} steps", fontsize=9)
    return save_figure(fig, out_dir, "sec5_gan_losses.png", quick)


def figure_digits(experiment: dict, out_dir: str, n: int = 64) -> str:
    run, quick = experiment["digits"], experiment["quick"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 5.4))
    panels = ((run["samples"], f"G(z), z ~ N(0, I): Frechet distance {run['fdd']:.1f}"),
              (run["ema_samples"], f"the EMA of G's weights: Frechet distance {run['fdd_ema']:.1f}"),
              (run["real"], f"real test digits (validation digits: {run['fdd_real']:.1f})"))
    for ax, (images, title) in zip(axes, panels):
        ax.imshow(digit_canvas(images[:n], 8), cmap="gray", vmin=0, vmax=16, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    c, t = run["config"], run["train_config"]
    budget = f"{run['steps']} steps ({run['epochs']:.3g} epochs)"
    note = (" [quick settings, quick classifier]" if quick else f" [the README's settings: {t.epochs} epochs]"
            if run["full"] else f" [the README trains {t.epochs} epochs]")
    fig.suptitle(f"DCGAN on the 8x8 digits: latent {c.latent_dim}, Adam lr {t.lr:g}, batch {t.batch_size}, "
                 f"{budget}, seed {SEED}{note}\nFrechet digit distance to the {run['n_test']} test digits: "
                 f"{run['n']} samples of G {run['fdd']:.1f} (of its EMA {run['fdd_ema']:.1f}); "
                 f"{run['n']} real held-out (validation) digits {run['fdd_real']:.1f}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec5_gan_digits.png", quick)


def summary(experiment: dict) -> dict:
    """The measured numbers behind the figures, for the tour's report."""
    result: dict = {}
    for run in experiment["ring"]:
        c, e = run["coverage"], run["ema_coverage"]
        name = f"ring, {run['label']}"
        result |= {f"{name}: steps": run["steps"], f"{name}: modes covered by G": f"{c.modes_covered}/8",
                   f"{name}: high-quality samples of G": f"{100 * c.high_quality:.1f}%",
                   f"{name}: EMA of G": f"{e.modes_covered}/8, {100 * e.high_quality:.1f}%",
                   f"{name}: mean D(G(z))": run["d_fake"]}
    digits = experiment["digits"]
    result |= {"digits, DCGAN: steps": digits["steps"],
               f"digits: Frechet digit distance of {digits['n']} samples of G": digits["fdd"],
               "digits: ... of the EMA of G": digits["fdd_ema"],
               f"digits: ... of {digits['n']} real validation digits": digits["fdd_real"]}
    return result


def run(out_dir: str = "demo_output", quick: bool = False, full: bool = False) -> tuple[list[str], dict]:
    """The figures and the measured numbers; ``full``: the README's epochs instead of the demo's budget."""
    # run_experiment(quick) when not full: the form a caller (or a test) that wraps it knows
    experiment = run_experiment(quick, full=True) if full else run_experiment(quick)
    figures = [figure_training(experiment, out_dir), figure_losses(experiment, out_dir),
               figure_digits(experiment, out_dir)]
    return figures, summary(experiment)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return run(out_dir, quick)[0]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
