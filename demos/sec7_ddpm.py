"""Lecture section 7: the denoising diffusion probabilistic model (DDPM), on the swiss roll and the 8x8 digits.

The forward process adds Gaussian noise step by step until the data is pure noise, in closed form

    x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps,   eps ~ N(0, I),   alpha-bar_t = prod_{s<=t} (1 - beta_s);

the backward process starts from x_T ~ N(0, I) and removes the noise step by step with a network
eps_theta(x_t, t) trained to predict it (L_simple = E || eps - eps_theta(x_t, t) ||^2; ``scratchgen.models.ddpm``).
Two models at the README's settings (``ddpm_settings``: T = 1000 linear betas 1e-4 .. 0.02), each trained
with ``scratchgen.training.Trainer`` on a bounded budget of steps: the time-conditioned MLP on the swiss roll,
the small U-Net on the digits. Samples are drawn with the EMA of the weights (decay 0.999), the weights that
``scratchgen train ddpm`` saves, by the two samplers of ``diffusion.py``: ancestral (DDPM's Algorithm 2, all T
steps) and DDIM (50 strided steps, eta = 0, the same network).

The numbers are those of ``scratchgen evaluate`` (``cli.evaluate_ddpm``). Swiss roll: the Chamfer distance
(the sum of squared nearest-neighbour distances both ways) of 2048 samples to 2048 fresh data points, the
mean over 5 fresh draws; its floor is two fresh data draws against each other (what a perfect sampler would
score). Digits: the Frechet digit distance to the test digits, of 350 DDIM samples beside 350 real training
digits; the few ancestral digits (1000 network calls each) are scored at their own small size beside the
same number of DDIM samples and of real digits (the estimate is biased upwards for small sets: only equal
sizes compare).

Figures:
  sec7_ddpm_forward.png   the forward process q(x_t | x_0) on one test digit and on the swiss roll at
                          t = 0 .. T (alpha-bar_t in each title), and the schedule's signal and noise scales
  sec7_ddpm_reverse.png   the backward process step by step: 2048 swiss-roll points from x_T ~ N(0, I) to x_0
                          (the ancestral trajectory), and the trajectories of six digits
  sec7_ddpm_samples.png   swiss-roll samples of both samplers over the data with their Chamfer distances and
                          the floor; digits of both samplers beside real ones with their Frechet digit
                          distances; the training loss L_simple of both models

The demo's budget (about 90 s on two free cores) is far shorter than the README's runs: 5000 steps of the
swiss-roll MLP (the README trains 120 epochs of 196 steps: 23,520) and 250 steps of the digits' U-Net (the
README trains 400 epochs of 8 steps: 3,200). On it the ancestral sampler's swiss roll is already at its
Chamfer floor; DDIM's 50 deterministic steps draw the same curve but leave a few points between its arms
(about 2.5 times the floor). The digits show the lecture's picture: structure appears only in the last few
hundred of the 1000 steps, as alpha-bar_t rises towards 1; but on this short budget the U-Net's digits are
still rough strokes, digit-like and far from the real ones in Frechet distance. What
``scratchgen train ddpm --data digits`` reaches (seed 0, 8.6 min): a test NLL bound of 84.1 nats
(the VAE: 92.6) and a Frechet digit distance of 3.0 (real digits: 2.6; the GAN: 22.2).

The forward process has nothing to learn: its figure uses the README's schedule (T = 1000) in both modes.
The quick mode (``--quick``, the tour's smoke run) trains the quick models of ``ddpm_settings(quick=True)``
(T = 50, tiny networks) for a few steps: its samples and numbers only show that everything runs. The demo
runs with one BLAS thread, so the same seed gives the same figures on any number of cores.

``run(out_dir, quick, full)`` also returns the measured numbers (the tour's report shows them); with ``full``
(``python demos/tour.py --full --sections ddpm``) both models train the README's epochs (23,520 and 3,200
steps), about 15 minutes on two free cores.

Run: python demos/sec7_ddpm.py [--quick]
"""
from __future__ import annotations

import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from scratchgen import metrics  # noqa: E402
from scratchgen.cli import N_CHAMFER, N_CHAMFER_REFERENCES, ddpm_settings, load_data  # noqa: E402
from scratchgen.data import make_toy  # noqa: E402
from scratchgen.models import DDPM  # noqa: E402
from scratchgen.plotting import budget_label, demo_command_line, digit_canvas, save_figure, show_digits  # noqa: E402
from scratchgen.training import Trainer  # noqa: E402

SWISS_STEPS, QUICK_SWISS_STEPS = 5000, 200   # the README trains 120 epochs of 196 steps: 23,520
DIGIT_STEPS, QUICK_DIGIT_STEPS = 250, 8      # the README trains 400 epochs of 8 steps: 3,200
DDIM_STEPS, QUICK_DDIM_STEPS = 50, 10
N_ANCESTRAL_DIGITS, QUICK_N_ANCESTRAL_DIGITS = 36, 16   # 1000 U-Net calls each: a picture's worth
N_FDD, QUICK_N_FDD = 350, 100                # DDIM digits (and real training digits) per Frechet distance
N_TRAJECTORY_DIGITS = 6                      # digits whose backward trajectory sec7_ddpm_reverse.png draws
FORWARD_DIGIT = 9                            # the test digit of sec7_ddpm_forward.png (a 0)
FORWARD_FRACTIONS = (0, 0.05, 0.1, 0.25, 0.5, 1.0)        # t / T of sec7_ddpm_forward.png: 0, 50, ..., 1000
SWISS_REVERSE_FRACTIONS = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0)
DIGIT_REVERSE_FRACTIONS = (1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.075, 0.05, 0.025, 0.0)
LOSS_WINDOW = {"swiss_roll": 100, "digits": 10}   # steps in the running mean of the loss curves
EXTENT = 4.5           # the swiss-roll panels show [-EXTENT, EXTENT]^2
SEED, SAMPLE_SEED = 0, 1   # weights and training stream; the noise of every sample drawn
REFERENCE_SEED, FLOOR_SEED = 10_000, 20_000   # fresh data draws of the Chamfer protocol (as evaluate_ddpm)


def settings(name: str, quick: bool):
    """(DDPMConfig, TrainConfig): the README's DDPM for ``name`` (or its quick version), seeded."""
    config, train = ddpm_settings(name, quick=quick)
    return replace(config, seed=SEED), replace(train, seed=SEED)


def train(name: str, data: dict, steps: int | None, quick: bool) -> dict:
    """One DDPM trained for ``steps`` steps (None: the README's epochs); the loss L_simple of every step is
    recorded by the callback."""
    config, train_config = settings(name, quick)
    model = DDPM(config)
    n_batches = int(np.ceil(len(data["train"]) / train_config.batch_size))
    steps = steps or train_config.epochs * n_batches
    losses: list[float] = []
    bar = tqdm(total=steps, desc=f"DDPM, {name}", unit="step", leave=False, disable=None)

    def after_step(_trainer: Trainer, _step: int, loss: float) -> None:
        losses.append(loss)
        bar.update(1)

    trainer = Trainer(model, data["train"], data["validation"], train_config, progress=False, callback=after_step)
    start = time.perf_counter()
    with bar:
        result = trainer.fit(max_steps=steps)
    if result.stopped == "interrupted":  # the Trainer turned a Ctrl-C into an early stop: the demo stops too
        raise KeyboardInterrupt
    return {"trainer": trainer, "model": model, "config": config, "train_config": train_config,
            "steps": trainer.step, "epochs": trainer.step / n_batches, "losses": np.array(losses),
            "validation_loss": list(result.validation_loss), "n_batches": n_batches,
            "train_seconds": time.perf_counter() - start}


def trajectory_every(T: int) -> int:
    """Steps between the kept states of a backward trajectory: T / 40 (25 for T = 1000)."""
    return max(1, T // 40)


def snapshots(trajectory: list[tuple[int, np.ndarray]], fractions, T: int) -> list[tuple[int, np.ndarray]]:
    """The kept states nearest to t = fraction * T, in the order of ``fractions``."""
    times = np.array([t for t, _ in trajectory])
    return [trajectory[int(np.argmin(np.abs(times - f * T)))] for f in fractions]


# ----- the experiment ---------------------------------------------------------------------------------------
def forward_process(swiss: dict, digits: dict) -> dict:
    """x_t ~ q(x_t | x_0) at t = fraction * T for one test digit and the swiss roll's test points (one noise
    draw per data set, shared by all t), with the README's schedule: nothing here is trained."""
    models = {name: DDPM(settings(name, quick=False)[0]) for name in ("swiss_roll", "digits")}
    schedule = models["swiss_roll"].schedule
    assert np.array_equal(schedule.alpha_bars, models["digits"].schedule.alpha_bars)
    T = schedule.T
    times = [int(round(f * T)) for f in FORWARD_FRACTIONS]
    return {"T": T, "t": times, "alpha_bar": [float(schedule.alpha_bars[t]) for t in times],
            "alpha_bars": schedule.alpha_bars.copy(),
            "swiss_roll": models["swiss_roll"].forward_process(swiss["test"], times, rng=SEED),
            "digit": models["digits"].forward_process(digits["test"][FORWARD_DIGIT:FORWARD_DIGIT + 1], times, rng=SEED)}


def swiss_roll_experiment(data: dict, quick: bool, full: bool = False) -> dict:
    """Train the MLP (``full``: the README's epochs); draw 2048 samples with each sampler (the ancestral one
    keeping its trajectory) and score them with the Chamfer protocol of ``evaluate_ddpm``."""
    run = train("swiss_roll", data, None if full else QUICK_SWISS_STEPS if quick else SWISS_STEPS, quick)
    model, T = run["model"], run["model"].schedule.T
    ddim_steps = min(QUICK_DDIM_STEPS if quick else DDIM_STEPS, T)
    start = time.perf_counter()
    with run["trainer"].ema.average_parameters():
        ancestral, trajectory = model.sample(N_CHAMFER, SAMPLE_SEED, return_trajectory=trajectory_every(T))
        ddim = model.sample(N_CHAMFER, SAMPLE_SEED, sampler="ddim", steps=ddim_steps)
    sample_seconds = time.perf_counter() - start
    references = [make_toy("swiss_roll", N_CHAMFER, seed=REFERENCE_SEED + i) for i in range(N_CHAMFER_REFERENCES)]
    others = [make_toy("swiss_roll", N_CHAMFER, seed=FLOOR_SEED + i) for i in range(N_CHAMFER_REFERENCES)]

    def chamfer(points: np.ndarray) -> tuple[float, float]:
        values = [metrics.chamfer_distance(points, reference) for reference in references]
        return float(np.mean(values)), float(np.std(values))

    floor = [metrics.chamfer_distance(a, b) for a, b in zip(others, references)]
    run |= {"T": T, "ddim_steps": ddim_steps, "ancestral": ancestral, "ddim": ddim, "trajectory": trajectory,
            "reference": references[0], "chamfer": chamfer(ancestral), "chamfer_ddim": chamfer(ddim),
            "chamfer_floor": (float(np.mean(floor)), float(np.std(floor))), "sample_seconds": sample_seconds}
    print(f"    swiss roll: {run['steps']} steps in {run['train_seconds']:.1f} s, sampling {sample_seconds:.1f} s; "
          f"Chamfer ancestral ({T} steps) {run['chamfer'][0]:.1f}, DDIM ({ddim_steps} steps) "
          f"{run['chamfer_ddim'][0]:.1f}, floor {run['chamfer_floor'][0]:.1f}", flush=True)
    return run


def digits_experiment(data: dict, quick: bool, full: bool = False) -> dict:
    """Train the U-Net (``full``: the README's epochs); a few digits ancestrally (with their trajectories), many
    with DDIM; Frechet digit distances to the test digits, each beside real training digits of the same number."""
    run = train("digits", data, None if full else QUICK_DIGIT_STEPS if quick else DIGIT_STEPS, quick)
    model, T = run["model"], run["model"].schedule.T
    ddim_steps = min(QUICK_DDIM_STEPS if quick else DDIM_STEPS, T)
    n_ancestral, n_fdd = (QUICK_N_ANCESTRAL_DIGITS, QUICK_N_FDD) if quick else (N_ANCESTRAL_DIGITS, N_FDD)
    start = time.perf_counter()
    with run["trainer"].ema.average_parameters():
        ancestral, trajectory = model.sample(n_ancestral, SAMPLE_SEED, return_trajectory=trajectory_every(T))
        ddim = model.sample(n_fdd, SAMPLE_SEED, sampler="ddim", steps=ddim_steps)
    sample_seconds = time.perf_counter() - start
    test = data["test"].reshape(len(data["test"]), -1)
    real = data["train"].reshape(len(data["train"]), -1)

    def fdd(images: np.ndarray) -> float:
        return metrics.frechet_digit_distance(images.reshape(len(images), -1), test)

    run |= {"T": T, "ddim_steps": ddim_steps, "ancestral": ancestral, "ddim": ddim, "trajectory": trajectory,
            "real": data["train"][:n_ancestral], "n_ancestral": n_ancestral, "n_fdd": n_fdd,
            "fdd_ddim": fdd(ddim), "fdd_real": fdd(real[:n_fdd]),
            "fdd_small": {"ancestral": fdd(ancestral), "ddim": fdd(ddim[:n_ancestral]),
                          "real": fdd(real[:n_ancestral])},
            "n_test": len(test), "sample_seconds": sample_seconds}
    small = run["fdd_small"]
    print(f"    digits: {run['steps']} steps in {run['train_seconds']:.1f} s, sampling {sample_seconds:.1f} s; "
          f"Frechet digit distance of {n_fdd} DDIM ({ddim_steps} steps) digits {run['fdd_ddim']:.1f} (real "
          f"{run['fdd_real']:.1f}); of {n_ancestral}: ancestral {small['ancestral']:.1f}, DDIM {small['ddim']:.1f}, "
          f"real {small['real']:.1f}", flush=True)
    return run


def run_experiment(quick: bool = False, full: bool = False) -> dict:
    """The forward process, then both models trained, sampled and scored (one BLAS thread throughout);
    ``full``: trained for the README's epochs."""
    swiss, digits = load_data("swiss_roll"), load_data("digits")
    full = full and not quick
    with threadpool_limits(1, user_api="blas"):
        return {"forward": forward_process(swiss, digits), "swiss_roll": swiss_roll_experiment(swiss, quick, full),
                "digits": digits_experiment(digits, quick, full), "data": swiss["test"], "quick": quick}


# ----- drawing ----------------------------------------------------------------------------------------------
def describe(run: dict) -> str:
    c = run["config"]
    if c.architecture == "unet":
        net = f"U-Net, {c.channels} channels, clip x0_hat to [-1, 1]"
    else:
        net = f"TimeMLP {'-'.join(map(str, c.hidden))}"
    return f"{net}; {c.schedule} betas, T = {run['T']}; Adam lr {run['train_config'].lr:g}; EMA weights; seed {SEED}"


def budget(run: dict, quick: bool) -> str:
    """The training budget on a figure: budget_label's, or the README's settings when the run trained them."""
    t = run["train_config"]
    if not quick and run["steps"] >= t.epochs * run["n_batches"]:
        return f"the README's settings: {run['steps']} steps ({run['epochs']:.3g} epochs) of batch {t.batch_size}"
    return budget_label(run, quick)


def scatter_points(ax, points: np.ndarray, data: np.ndarray | None = None, colour: str = "tab:blue") -> None:
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=3, c="0.75", linewidths=0, label="data")
    ax.scatter(points[:, 0], points[:, 1], s=2, c=colour, alpha=0.6, linewidths=0, label="samples")
    ax.set_xlim(-EXTENT, EXTENT)
    ax.set_ylim(-EXTENT, EXTENT)
    ax.set_aspect("equal")
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_yticks([-4, -2, 0, 2, 4])
    ax.tick_params(labelsize=7)


def forward_title(t: int, alpha_bar: float) -> str:
    return f"t = {t}\nalpha-bar_t = {alpha_bar:.3g}"


def figure_forward(experiment: dict, out_dir: str) -> str:
    forward = experiment["forward"]
    times, T = forward["t"], forward["T"]
    fig = plt.figure(figsize=(17, 5.4))
    grid = fig.add_gridspec(2, len(times) + 1, width_ratios=[1] * len(times) + [1.6], hspace=0.25, wspace=0.15,
                            top=0.83)
    for i, (t, alpha_bar) in enumerate(zip(times, forward["alpha_bar"])):
        digit_ax, roll_ax = fig.add_subplot(grid[0, i]), fig.add_subplot(grid[1, i])
        show_digits(digit_ax, forward["digit"][i][0], forward_title(t, alpha_bar))
        scatter_points(roll_ax, forward["swiss_roll"][i], colour="tab:purple")
        if i:
            roll_ax.set_yticklabels([])
    curve = fig.add_subplot(grid[:, -1])
    steps = np.arange(T + 1)
    a = forward["alpha_bars"]
    curve.plot(steps, np.sqrt(a), color="tab:blue", label="sqrt(alpha-bar_t): signal scale")
    curve.plot(steps, np.sqrt(1 - a), color="tab:red", label="sqrt(1 - alpha-bar_t): noise std")
    curve.plot(steps, a, color="k", ls="--", lw=1, label="alpha-bar_t")
    curve.plot(times, forward["alpha_bar"], "ko", ms=4)
    curve.set_xlabel("t", fontsize=8)
    curve.set_ylim(-0.02, 1.02)
    curve.tick_params(labelsize=7)
    curve.grid(alpha=0.3)
    curve.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.09))  # below: the curves fill the box
    curve.set_title(f"linear betas {1e-4:g} .. {0.02:g}, T = {T}", fontsize=8.5)
    fig.suptitle("the forward process q(x_t | x_0): x_t = sqrt(alpha-bar_t) x_0 + sqrt(1 - alpha-bar_t) eps, "
                 "eps ~ N(0, I) (one draw of eps for every t): noise is added until x_T is pure noise\n"
                 "top: a test digit (grey levels 0..16; the noisy values reach outside them, drawn clipped); "
                 "bottom: the swiss roll's 2500 test points; the README's schedule (nothing is trained here)",
                 fontsize=9)
    return save_figure(fig, out_dir, "sec7_ddpm_forward.png", experiment["quick"])


def figure_reverse(experiment: dict, out_dir: str) -> str:
    swiss, digits, quick = experiment["swiss_roll"], experiment["digits"], experiment["quick"]
    alpha_bars = swiss["model"].schedule.alpha_bars
    roll = snapshots(swiss["trajectory"], SWISS_REVERSE_FRACTIONS, swiss["T"])
    fig = plt.figure(figsize=(16, 7.6))
    grid = fig.add_gridspec(2, len(roll), height_ratios=[1, 1.25], hspace=0.22, wspace=0.12)
    for i, (t, x) in enumerate(roll):
        ax = fig.add_subplot(grid[0, i])
        scatter_points(ax, x, experiment["data"], colour="tab:blue")
        ax.set_title(f"x_{t} (alpha-bar = {alpha_bars[t]:.2g})", fontsize=8.5)
        if i:
            ax.set_yticklabels([])
    ax = fig.add_subplot(grid[1, :])
    states = snapshots(digits["trajectory"], DIGIT_REVERSE_FRACTIONS, digits["T"])
    rows = [np.stack([x[j] for _, x in states] + [digits["ancestral"][j]]) for j in range(N_TRAJECTORY_DIGITS)]
    columns = len(states) + 1
    show_digits(ax, digit_canvas(np.concatenate(rows), columns))
    ax.set_xticks([4.5 + 9 * c for c in range(columns)])
    ax.set_xticklabels([str(t) for t, _ in states] + ["sample"], fontsize=8)
    ax.set_xlabel("t: x_t of the backward process (continuous, drawn clipped to 0..16); the last column: the "
                  "sample, x_0 rounded to the 17 grey levels (the decoder's bins)", fontsize=8)
    ax.set_title(f"digits: the U-Net's ancestral trajectories, {N_TRAJECTORY_DIGITS} digits "
                 f"({budget(digits, quick)})", fontsize=9)
    fig.suptitle(f"the backward process, ancestral sampler (DDPM's Algorithm 2): x_T ~ N(0, I), then "
                 f"x_(t-1) = mu_theta(x_t, t) + sigma_t z for t = T, ..., 1 (sigma_t^2 = beta_t)\n"
                 f"top: {N_CHAMFER} swiss-roll points (blue) over the data (grey); {describe(swiss)} "
                 f"[{budget(swiss, quick)}]", fontsize=9)
    return save_figure(fig, out_dir, "sec7_ddpm_reverse.png", quick)


def loss_curve(ax, run: dict, name: str) -> None:
    losses = run["losses"]
    window = min(LOSS_WINDOW[name], len(losses))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color="0.75", lw=0.6, label="L_simple of each step")
    ax.plot(steps[window - 1:], smooth, color="tab:blue", lw=1.2, label=f"running mean over {window} steps")
    validation = run["validation_loss"]
    if validation:
        ax.plot(run["n_batches"] * np.arange(1, len(validation) + 1), validation, "o-", color="tab:orange",
                ms=2.5, lw=1, label="validation (EMA weights), each epoch")
    ax.set_ylim(0, 1.05 * np.percentile(losses, 99))
    ax.set_xlabel("training step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def figure_samples(experiment: dict, out_dir: str) -> str:
    swiss, digits, quick = experiment["swiss_roll"], experiment["digits"], experiment["quick"]
    fig = plt.figure(figsize=(17, 10.5))
    grid = fig.add_gridspec(2, 4, width_ratios=[1, 1, 1, 1.25], hspace=0.3, wspace=0.2, top=0.84)
    floor = swiss["chamfer_floor"]
    panels = ((swiss["ancestral"], f"ancestral, {swiss['T']} steps", swiss["chamfer"], "tab:blue"),
              (swiss["ddim"], f"DDIM, {swiss['ddim_steps']} steps (eta = 0)", swiss["chamfer_ddim"], "tab:green"))
    for i, (points, label, (mean, std), colour) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        scatter_points(ax, points, swiss["reference"], colour)
        ax.set_title(f"{label}: Chamfer {mean:.1f} +- {std:.1f}\n(floor: two data draws, {floor[0]:.1f} "
                     f"+- {floor[1]:.1f})", fontsize=8.5)
        if i == 0:
            ax.legend(fontsize=7, markerscale=3, loc="upper left")
    ax = fig.add_subplot(grid[0, 2])
    scatter_points(ax, make_toy("swiss_roll", N_CHAMFER, seed=FLOOR_SEED), swiss["reference"], "0.3")
    ax.set_title(f"a fresh data draw (the floor's): Chamfer {floor[0]:.1f} +- {floor[1]:.1f}", fontsize=8.5)
    ax = fig.add_subplot(grid[0, 3])
    loss_curve(ax, swiss, "swiss_roll")
    ax.set_title(f"swiss roll: training loss ({swiss['steps']} steps, {swiss['train_seconds']:.0f} s)", fontsize=8.5)

    n, small = digits["n_ancestral"], digits["fdd_small"]
    columns = int(np.ceil(np.sqrt(n)))
    digit_panels = (
        (digits["ancestral"], f"ancestral, {digits['T']} steps: {n} digits, Frechet {small['ancestral']:.1f}\n"
                              f"(of {n}: DDIM {small['ddim']:.1f}, real {small['real']:.1f})"),
        (digits["ddim"][:n], f"DDIM, {digits['ddim_steps']} steps: Frechet {digits['fdd_ddim']:.1f} "
                             f"of {digits['n_fdd']} samples\n(the first {n} drawn)"),
        (digits["real"], f"real training digits: Frechet {digits['fdd_real']:.1f} of {digits['n_fdd']}\n"
                         f"({small['real']:.1f} of {n})"))
    for i, (images, title) in enumerate(digit_panels):
        show_digits(fig.add_subplot(grid[1, i]), digit_canvas(images, columns), title)
    ax = fig.add_subplot(grid[1, 3])
    loss_curve(ax, digits, "digits")
    ax.set_title(f"digits: training loss ({digits['steps']} steps, {digits['train_seconds']:.0f} s)", fontsize=8.5)
    full = digits["steps"] >= digits["train_config"].epochs * digits["n_batches"]
    readme = ("" if quick else "\nthe README's run of these settings (seed 0) reached Frechet 3.0 and a test NLL "
              "bound of 84.1 nats" if full else "\nthe U-Net's digits are those of a short run; `scratchgen train "
              "ddpm --data digits` (3,200 steps) reaches Frechet 3.0 and a test NLL bound of 84.1 nats (seed 0)")
    fig.suptitle(f"samples of both samplers, from the same network (EMA weights)\n"
                 f"swiss roll: {describe(swiss)} [{budget(swiss, quick)}]\n"
                 f"Chamfer distance (sum of squared nearest-neighbour distances both ways) of {N_CHAMFER} samples "
                 f"to {N_CHAMFER} fresh data points (grey), mean +- std over {N_CHAMFER_REFERENCES} draws\n"
                 f"digits: {describe(digits)} [{budget(digits, quick)}]\n"
                 f"Frechet digit distance to the {digits['n_test']} test digits (biased upwards for small sets: "
                 f"compare at equal sizes){readme}", fontsize=9)
    return save_figure(fig, out_dir, "sec7_ddpm_samples.png", quick)


def summary(experiment: dict) -> dict:
    """The measured numbers behind the figures, for the tour's report."""
    swiss, digits = experiment["swiss_roll"], experiment["digits"]
    small, n = digits["fdd_small"], digits["n_ancestral"]
    return {"swiss roll: training steps": swiss["steps"],
            f"swiss roll: Chamfer, ancestral ({swiss['T']} steps), mean +- std": "{:.2f} +- {:.2f}".format(
                *swiss["chamfer"]),
            f"swiss roll: Chamfer, DDIM ({swiss['ddim_steps']} steps)": "{:.2f} +- {:.2f}".format(
                *swiss["chamfer_ddim"]),
            "swiss roll: Chamfer floor (two data draws)": "{:.2f} +- {:.2f}".format(*swiss["chamfer_floor"]),
            "digits: training steps": digits["steps"],
            f"digits: Frechet digit distance, {digits['n_fdd']} DDIM samples": digits["fdd_ddim"],
            f"digits: ... {digits['n_fdd']} real training digits": digits["fdd_real"],
            f"digits: ... {n} ancestral samples": small["ancestral"],
            f"digits: ... {n} DDIM samples": small["ddim"],
            f"digits: ... {n} real training digits": small["real"]}


def run(out_dir: str = "demo_output", quick: bool = False, full: bool = False) -> tuple[list[str], dict]:
    """The figures and the measured numbers; ``full``: the README's epochs instead of the demo's budget."""
    # run_experiment(quick) when not full: the form a caller (or a test) that wraps it knows
    experiment = run_experiment(quick, full=True) if full else run_experiment(quick)
    figures = [figure_forward(experiment, out_dir), figure_reverse(experiment, out_dir),
               figure_samples(experiment, out_dir)]
    return figures, summary(experiment)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return run(out_dir, quick)[0]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
