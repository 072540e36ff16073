"""Lecture section 8: conditional generation and inverse problems with a class-conditional DDPM on the 8x8 digits.

One U-Net eps_theta(x_t, t, c) learns both the conditional and the unconditional noise: during training each
label c is replaced by the null label with probability 0.1 (label dropout). Classifier-free guidance (Ho &
Salimans 2022) mixes the two at sampling time with a weight w,

    eps~(x_t, t, c) = eps_theta(x_t, t, null) + w (eps_theta(x_t, t, c) - eps_theta(x_t, t, null)),

so w = 0 is the unconditional model, w = 1 the conditional one and w > 1 pushes further along the label's
direction: fidelity to the label (the metrics classifier reads the sample as the intended digit) bought with
diversity (the Frechet digit distance to the test digits grows again). The same trained network is a prior for
linear inverse problems y = A x (``scratchgen.models.inverse``): inpainting (the lower half masked) by
diffusion posterior sampling (DPS: each backward step is followed by a gradient step on ||y - A x0_hat(x_t)||,
differentiated through the U-Net) and by RePaint (the known pixels replaced by noised copies of the observed
ones at every step, each step resampled twice), super-resolution (A: 2x2 averages, 8x8 -> 4x4) and deblurring
(A: a Gaussian blur of std 1 pixel), both by DPS; their restorations beside the classical baselines.

The model is ``ddpm_settings("digits", conditional=True)``: the README's U-Net (32 channels, the "levels" head,
posterior variance, T = 1000 linear betas) with a label embedding (10 classes and the null label), trained with
``scratchgen.training.Trainer`` on a bounded budget of steps and sampled with the EMA of its weights (decay
0.999) by DDIM (50 strided steps, eta = 0). Every guidance weight starts from the same x_T (the same seed), so
the samples of one label differ between the weights only by the guidance.

Figures:
  sec8_conditional_samples.png  one row per digit 0..9: samples with w = 0 (the unconditional model, the label
                                ignored) and with guidance w = 2, titled with their conditional accuracies;
                                real test digits of each label (the classifier's own accuracy on the test
                                digits is the ceiling); the training loss
  sec8_guidance_sweep.png       w = 0, 0.5, 1, 2, 4: the conditional accuracy and the Frechet digit distance of
                                a few samples per label at each w (beside real digits of the same number), the
                                trade-off curve (Frechet distance against accuracy), and a row of samples per w
  sec8_inverse_problems.png     inpainting (DPS and RePaint), super-resolution and deblurring side by side:
                                observed / restored / truth rows for a few test digits, the PSNR of each
                                restoration and of its baselines (bilinear and nearest-neighbour upsampling;
                                the blurred input itself), and how often the inpainted digits are read as the
                                true digit (beside the observed upper half alone)

The demo's budget (about 80 s on two cores) is far shorter than the README's run: 300 training steps of the
U-Net (``scratchgen train ddpm --conditional`` trains 400 epochs of 8 steps: 3,200), 10 samples per label in
the sweep (bench/guidance.py draws 50 with 100 DDIM steps), and 12 test digits restored with 100 DPS steps
(``scratchgen evaluate`` restores 100 with 250 steps; each DPS step costs a forward and a backward pass of the
U-Net). On this budget the digits are still rough strokes, but guidance already does what it should (seed 0):
the accuracy climbs from chance at w = 0 (9%) through 35% at w = 1 and 47% at w = 2 to 75% at w = 4, while the
Frechet distance of the 100 samples stays near 11 (100 real digits: 7.8); DPS beats the baselines on
super-resolution (13.0 dB against 12.3 bilinear) and deblurring (16.0 dB against 11.6), and both inpainting
methods complete 7 of the 12 digits as the true digit (the upper half alone: 4). What the full run reaches
(seed 0, 3,200 steps): guided accuracy 100% at w = 2; the sweep (bench/guidance.py) 8.3% accuracy and Frechet
6.4 at w = 0, 96% and 3.2 at w = 1, 100% and 6.7 at w = 2, 100% and 12.3 at w = 4; inpainting accuracy 89%
with DPS and 61% with RePaint; super-resolution 16.5 dB (bilinear 12.6, nearest 12.9); deblurring 21.3 dB
(the blurred input: 11.8).

The quick mode (``--quick``, the tour's smoke run) trains the quick model of ``ddpm_settings(quick=True)``
(T = 50, a tiny U-Net) for a few steps: its samples and numbers only show that everything runs. The demo runs
with one BLAS thread, so the same seed gives the same figures on any number of cores.

``run(out_dir, quick, full)`` also returns the measured numbers (the tour's report shows them); with ``full``
(``python demos/tour.py --full --sections conditional-inverse``) the U-Net trains the README's 3,200 steps, the
sweep draws 30 samples per label with 100 DDIM steps (bench/guidance.py's table) and 100 test digits are
restored with 250 DPS steps (``scratchgen evaluate``'s protocol): about 15 minutes on two free cores.

Run: python demos/sec8_conditional_inverse.py [--quick]
"""
from __future__ import annotations

import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from scratchgen import metrics  # noqa: E402
from scratchgen.cli import ddpm_settings, load_data  # noqa: E402
from scratchgen.models import DDPM  # noqa: E402
from scratchgen.models.inverse import AveragePool, psnr, restore  # noqa: E402
from scratchgen.plotting import budget_label, demo_command_line, digit_canvas, save_figure, show_digits  # noqa: E402
from scratchgen.training import Trainer  # noqa: E402

TRAIN_STEPS, QUICK_TRAIN_STEPS = 300, 8     # the README trains 400 epochs of 8 steps: 3,200
DDIM_STEPS, QUICK_DDIM_STEPS = 50, 10
WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)         # the guidance weights of the sweep
GUIDED = 2.0                                # the guided weight of sec8_conditional_samples.png (evaluate's)
PER_LABEL, QUICK_PER_LABEL = 10, 2          # samples of every label at every w
N_ROW_PER_LABEL = 2                         # samples of every label in a row of the sweep's figure
N_RESTORE, QUICK_N_RESTORE = 12, 6          # test digits restored (the first of the test split)
DPS_STEPS, QUICK_DPS_STEPS = 100, 10        # DPS steps (evaluate: 250); each a forward and backward pass
REPAINT_RESAMPLE, QUICK_REPAINT_RESAMPLE = 2, 1   # RePaint's U (evaluate: 2); about U x T network calls
N_CLASSES = 10
LOSS_WINDOW = 10       # steps in the running mean of the loss curve
SEED, SAMPLE_SEED = 0, 1   # weights and training stream; the noise of every sample and restoration
TASKS = (("inpaint", "dps"), ("inpaint", "repaint"), ("superres", "dps"), ("deblur", "dps"))
# the full run (``run(full=True)``): the README's protocols, bench/guidance.py's sweep and evaluate's restorations
FULL_PER_LABEL, FULL_DDIM_STEPS, FULL_N_RESTORE, FULL_DPS_STEPS = 30, 100, 100, 250


def settings(quick: bool):
    """(DDPMConfig, TrainConfig): the README's class-conditional digits DDPM (or its quick version), seeded."""
    config, train_config = ddpm_settings("digits", quick=quick, conditional=True)
    return replace(config, seed=SEED), replace(train_config, seed=SEED)


def train(data: dict, quick: bool, full: bool = False) -> dict:
    """The conditional U-Net trained for a bounded number of steps (``full``: the README's epochs) on the
    (images, labels) pairs; the loss L_simple of every step is recorded by the callback."""
    config, train_config = settings(quick)
    model = DDPM(config)
    n_batches = int(np.ceil(len(data["train"][0]) / train_config.batch_size))
    steps = train_config.epochs * n_batches if full else QUICK_TRAIN_STEPS if quick else TRAIN_STEPS
    losses: list[float] = []
    bar = tqdm(total=steps, desc="conditional DDPM", unit="step", leave=False, disable=None)

    def after_step(_trainer: Trainer, _step: int, loss: float) -> None:
        losses.append(loss)
        bar.update(1)

    trainer = Trainer(model, data["train"], data["validation"], train_config, progress=False, callback=after_step)
    start = time.perf_counter()
    with bar:
        result = trainer.fit(max_steps=steps)
    if result.stopped == "interrupted":  # the Trainer turned a Ctrl-C into an early stop: the demo stops too
        raise KeyboardInterrupt
    run = {"trainer": trainer, "model": model, "config": config, "train_config": train_config,
           "steps": trainer.step, "epochs": trainer.step / n_batches, "losses": np.array(losses),
           "n_batches": n_batches, "T": model.schedule.T, "train_seconds": time.perf_counter() - start}
    print(f"    trained {run['steps']} steps in {run['train_seconds']:.1f} s", flush=True)
    return run


# ----- the experiment ---------------------------------------------------------------------------------------
def guidance_sweep(run: dict, data: dict, quick: bool, full: bool = False) -> dict:
    """``per_label`` samples of every label at every guidance weight w (DDIM, the same x_T for every w), each
    set scored by its conditional accuracy and its Frechet digit distance to the test digits."""
    model, T = run["model"], run["T"]
    per_label = FULL_PER_LABEL if full else QUICK_PER_LABEL if quick else PER_LABEL
    steps = min(FULL_DDIM_STEPS if full else QUICK_DDIM_STEPS if quick else DDIM_STEPS, T)
    labels = np.repeat(np.arange(N_CLASSES), per_label)
    test_images, test_labels = data["test"]
    test = test_images.reshape(len(test_images), -1)
    rows = []
    start = time.perf_counter()
    with run["trainer"].ema.average_parameters():
        for w in tqdm(WEIGHTS, desc="guidance sweep", unit="w", leave=False, disable=None):
            samples = model.sample(len(labels), SAMPLE_SEED, sampler="ddim", steps=steps, labels=labels, guidance=w)
            flat = samples.reshape(len(samples), -1)
            rows.append({"w": w, "samples": samples, "accuracy": metrics.conditional_accuracy(flat, labels),
                         "frechet": metrics.frechet_digit_distance(flat, test)})
    real = data["train"][0][:len(labels)]
    sweep = {"rows": rows, "labels": labels, "per_label": per_label, "ddim_steps": steps, "n_test": len(test),
             "frechet_real": metrics.frechet_digit_distance(real, test),
             "classifier_accuracy": metrics.conditional_accuracy(test, test_labels),
             "real_by_label": np.stack([test_images[test_labels == c][:per_label] for c in range(N_CLASSES)]),
             "seconds": time.perf_counter() - start}
    print(f"    guidance sweep: {len(labels)} samples per w in {sweep['seconds']:.1f} s; "
          + ", ".join(f"w = {r['w']:g}: {r['accuracy']:.0%} / {r['frechet']:.1f}" for r in rows)
          + f" (real digits: Frechet {sweep['frechet_real']:.1f})", flush=True)
    return sweep


def inverse_problems(run: dict, data: dict, quick: bool, full: bool = False) -> dict:
    """The first test digits observed through each task's operator and restored with the trained DDPM (its
    unconditional half: no labels given), with the baselines' PSNRs and the inpainting accuracies."""
    model, T = run["model"], run["T"]
    n = FULL_N_RESTORE if full else QUICK_N_RESTORE if quick else N_RESTORE
    truth, truth_labels = data["test"][0][:n].reshape(n, 8, 8), data["test"][1][:n]
    steps = min(FULL_DPS_STEPS if full else QUICK_DPS_STEPS if quick else DPS_STEPS, T)
    resample = QUICK_REPAINT_RESAMPLE if quick else REPAINT_RESAMPLE
    results: dict = {}
    with run["trainer"].ema.average_parameters():
        for task, method in tqdm(TASKS, desc="inverse problems", unit="task", leave=False, disable=None):
            start = time.perf_counter()
            out = restore(model, task, truth, np.random.default_rng(SAMPLE_SEED), method=method, steps=steps,
                          resample=resample)
            out |= {"psnr": psnr(out["restored"], truth), "seconds": time.perf_counter() - start}
            results[f"{task}_{method}"] = out
    pool = AveragePool()
    low = results["superres_dps"]["observed"][:, None]
    superres = results["superres_dps"]
    superres |= {"bilinear": pool.upsample_bilinear(low)[:, 0], "nearest": pool.upsample_nearest(low)[:, 0]}
    superres |= {f"psnr_{b}": psnr(superres[b], truth) for b in ("bilinear", "nearest")}
    results["deblur_dps"]["psnr_observed"] = psnr(results["deblur_dps"]["observed"], truth)
    for key in ("inpaint_dps", "inpaint_repaint"):
        results[key]["accuracy"] = metrics.conditional_accuracy(results[key]["restored"].reshape(n, -1), truth_labels)
    observed = results["inpaint_dps"]["observed"].reshape(n, -1)
    results["inpaint_dps"]["psnr_observed"] = psnr(observed, truth.reshape(n, -1))
    inverse = {"tasks": results, "truth": truth, "labels": truth_labels, "n": n, "dps_steps": steps,
               "resample": resample, "accuracy_observed": metrics.conditional_accuracy(observed, truth_labels)}
    r = results
    print(f"    inverse problems on {n} test digits: inpainting accuracy DPS {r['inpaint_dps']['accuracy']:.0%}, "
          f"RePaint {r['inpaint_repaint']['accuracy']:.0%} (upper half alone {inverse['accuracy_observed']:.0%}); "
          f"super-resolution {r['superres_dps']['psnr']:.1f} dB (bilinear {r['superres_dps']['psnr_bilinear']:.1f}, "
          f"nearest {r['superres_dps']['psnr_nearest']:.1f}); deblurring {r['deblur_dps']['psnr']:.1f} dB (blurred "
          f"{r['deblur_dps']['psnr_observed']:.1f}); "
          + ", ".join(f"{k} {v['seconds']:.1f} s" for k, v in results.items()), flush=True)
    return inverse


def run_experiment(quick: bool = False, full: bool = False) -> dict:
    """The conditional DDPM trained, swept over the guidance weights and used on the three inverse problems
    (one BLAS thread throughout); ``full``: the README's training and protocols."""
    data = load_data("digits", labels=True)
    full = full and not quick
    with threadpool_limits(1, user_api="blas"):
        run = train(data, quick, full)
        return {"run": run, "sweep": guidance_sweep(run, data, quick, full),
                "inverse": inverse_problems(run, data, quick, full), "quick": quick, "full": full}


# ----- drawing ----------------------------------------------------------------------------------------------
def describe(run: dict) -> str:
    c = run["config"]
    return (f"U-Net, {c.channels} channels, label embedding ({c.num_classes} classes + null, label dropout "
            f"{c.label_dropout:g}), {c.parameterization} head; {c.schedule} betas, T = {run['T']}; Adam lr "
            f"{run['train_config'].lr:g}; EMA weights; seed {SEED}")


def budget(run: dict, quick: bool) -> str:
    """The training budget on a figure: budget_label's, or the README's settings when the run trained them."""
    t = run["train_config"]
    if not quick and run["steps"] >= t.epochs * run["n_batches"]:
        return f"the README's settings: {run['steps']} steps ({run['epochs']:.3g} epochs) of batch {t.batch_size}"
    return budget_label(run, quick)


def label_rows(ax, names, rows_per_name: int = 1) -> None:
    """Names on the y axis of a digit canvas, one per ``rows_per_name`` rows of digits."""
    ax.set_yticks([1 + 9 * rows_per_name * (i + 0.5) - 0.5 for i in range(len(names))])
    ax.set_yticklabels(names, fontsize=8)
    ax.tick_params(length=0)


def by_label(samples: np.ndarray, per_label: int, columns: int | None = None) -> np.ndarray:
    """Samples ordered label by label (``per_label`` each) as one row per label, the first ``columns`` of each."""
    grid = np.asarray(samples).reshape(N_CLASSES, per_label, 8, 8)
    return grid[:, :columns or per_label].reshape(-1, 8, 8)


def percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def figure_conditional(experiment: dict, out_dir: str) -> str:
    run, sweep, quick = experiment["run"], experiment["sweep"], experiment["quick"]
    rows = {r["w"]: r for r in sweep["rows"]}
    per_label = sweep["per_label"]
    fig = plt.figure(figsize=(16, 4.9))
    grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.35], wspace=0.18, top=0.74, bottom=0.08)
    digits = [str(c) for c in range(N_CLASSES)]
    unconditional, guided = rows[0.0], rows[GUIDED]
    panels = ((unconditional, f"w = 0 (the unconditional model: the label is ignored)\n"
                              f"accuracy {percent(unconditional['accuracy'])} (chance: 10%)"),
              (guided, f"w = {GUIDED:g} (classifier-free guidance)\naccuracy {percent(guided['accuracy'])}"))
    for i, (row, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        show_digits(ax, digit_canvas(by_label(row["samples"], per_label), per_label), title)
        label_rows(ax, digits)
        if i == 0:
            ax.set_ylabel("intended digit (label c)", fontsize=8.5)
    ax = fig.add_subplot(grid[0, 2])
    show_digits(ax, digit_canvas(sweep["real_by_label"].reshape(-1, 8, 8), per_label),
                f"real test digits of each label\n(the classifier reads {percent(sweep['classifier_accuracy'])} "
                f"of all {sweep['n_test']} right)")
    label_rows(ax, digits)
    ax = fig.add_subplot(grid[0, 3])
    losses = run["losses"]
    window = min(LOSS_WINDOW, len(losses))
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color="0.75", lw=0.6, label="L_simple of each step")
    ax.plot(steps[window - 1:], np.convolve(losses, np.ones(window) / window, mode="valid"), color="tab:blue",
            lw=1.2, label=f"running mean over {window} steps")
    ax.set_ylim(0, 1.05 * np.percentile(losses, 99))
    ax.set_xlabel("training step", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_box_aspect(1)
    ax.set_title(f"training loss ({run['steps']} steps, {run['train_seconds']:.0f} s; labels dropped to null "
                 f"w.p. {run['config'].label_dropout:g})", fontsize=8.5)
    readme = ("" if quick or experiment.get("full") else "\non this short budget the digits are still rough strokes; "
              "`scratchgen train ddpm --conditional` (3,200 steps, seed 0) reaches 100% at w = 2 (and 8.3% at w = 0)")
    fig.suptitle(f"class-conditional DDPM: eps~ = eps(x_t, t, null) + w (eps(x_t, t, c) - eps(x_t, t, null)); "
                 f"{per_label} DDIM samples ({sweep['ddim_steps']} steps, eta = 0) of every label, the same x_T "
                 f"for both w\naccuracy: how often the metrics classifier reads a sample as its intended digit\n"
                 f"{describe(run)} [{budget(run, quick)}]{readme}", fontsize=9)
    return save_figure(fig, out_dir, "sec8_conditional_samples.png", quick)


def figure_sweep(experiment: dict, out_dir: str) -> str:
    run, sweep, quick = experiment["run"], experiment["sweep"], experiment["quick"]
    rows, n = sweep["rows"], len(sweep["labels"])
    w = [r["w"] for r in rows]
    accuracy, frechet = [r["accuracy"] for r in rows], [r["frechet"] for r in rows]
    fig = plt.figure(figsize=(16, 9))
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.15], hspace=0.3, wspace=0.28, top=0.87)
    ax = fig.add_subplot(grid[0, 0])
    ax.plot(w, accuracy, "o-", color="tab:blue")
    ax.axhline(sweep["classifier_accuracy"], color="0.5", ls=":", lw=1, label="real test digits")
    ax.axhline(0.1, color="tab:red", ls=":", lw=1, label="chance (10%)")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("guidance weight w (0: unconditional, 1: conditional)", fontsize=8)
    ax.set_title(f"conditional accuracy of the {n} samples", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax = fig.add_subplot(grid[0, 1])
    ax.plot(w, frechet, "s-", color="tab:orange")
    ax.axhline(sweep["frechet_real"], color="0.5", ls=":", lw=1, label=f"{n} real training digits")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("guidance weight w", fontsize=8)
    ax.set_title(f"Frechet digit distance to the {sweep['n_test']} test digits\n(of {n} samples: biased upwards "
                 f"for small sets, compare at equal sizes)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax = fig.add_subplot(grid[0, 2])
    ax.plot(accuracy, frechet, "-", color="0.6", lw=1)
    ax.scatter(accuracy, frechet, c=w, cmap="viridis", s=40, zorder=3)
    for a, f, weight in zip(accuracy, frechet, w):
        ax.annotate(f"w = {weight:g}", (a, f), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set_xlim(-0.02, 1.12)
    ax.set_ylim(bottom=0, top=1.12 * max(frechet))
    ax.set_xlabel("conditional accuracy (fidelity to the label)", fontsize=8)
    ax.set_ylabel("Frechet digit distance (lower: closer to the data)", fontsize=8)
    ax.set_title("the trade-off: fidelity against sample quality and diversity", fontsize=9)
    for ax in fig.axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[1, :])
    shown = min(N_ROW_PER_LABEL, sweep["per_label"])
    strip = [by_label(r["samples"], sweep["per_label"], shown) for r in rows]
    show_digits(ax, digit_canvas(np.concatenate(strip), N_CLASSES * shown))
    label_rows(ax, [f"w = {r['w']:g}: {percent(r['accuracy'])}, {r['frechet']:.1f}" for r in rows])
    ax.set_xticks([1 + 9 * shown * (c + 0.5) - 0.5 for c in range(N_CLASSES)])
    ax.set_xticklabels([f"c = {c}" for c in range(N_CLASSES)], fontsize=8)
    ax.set_title(f"the first {shown} samples of every label at each w (the same x_T in every row: only the "
                 f"guidance differs); accuracy, Frechet digit distance", fontsize=9)
    readme = ("" if quick else "\nwhat the README's run reached (bench/guidance.py, 30 per label, seed 0): "
              "w = 0: 8.3% / Frechet 6.4, w = 1: 96% / 3.2, w = 2: 100% / 6.7, w = 4: 100% / 12.3")
    fig.suptitle(f"the guidance sweep: w = {', '.join(f'{x:g}' for x in WEIGHTS)}, {sweep['per_label']} DDIM "
                 f"samples ({sweep['ddim_steps']} steps) of every label at each w\n{describe(run)} "
                 f"[{budget(run, quick)}]{readme}", fontsize=9)
    return save_figure(fig, out_dir, "sec8_guidance_sweep.png", quick)


def inverse_panel(ax, rows: list[np.ndarray], names: list[str], title: str, missing: np.ndarray | None = None) -> None:
    """Rows of digits (observed / restored / truth ...) in one canvas; ``missing`` pixels of the first row
    drawn in translucent red."""
    n = len(rows[0])
    show_digits(ax, digit_canvas(np.concatenate(rows), n), title)
    if missing is not None:
        mask = digit_canvas(np.concatenate([missing] + [np.zeros_like(r) for r in rows[1:]]), n)
        ax.imshow(np.ma.masked_where(mask != 1, mask), cmap=ListedColormap(["tab:red"]), alpha=0.45,
                  interpolation="nearest")
    label_rows(ax, names)


def figure_inverse(experiment: dict, out_dir: str) -> str:
    run, inverse, quick = experiment["run"], experiment["inverse"], experiment["quick"]
    r, truth, n = inverse["tasks"], inverse["truth"], inverse["n"]
    fig = plt.figure(figsize=(16, 6.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 4], hspace=0.25, wspace=0.12, top=0.8, bottom=0.02)  # digit rows
    inpaint, repaint, superres, deblur = r["inpaint_dps"], r["inpaint_repaint"], r["superres_dps"], r["deblur_dps"]
    missing = 1 - inpaint["mask"]
    inverse_panel(fig.add_subplot(grid[0, 0]), [inpaint["observed"], inpaint["restored"], truth],
                  ["observed\n(lower half\nmissing)", f"DPS\n{inverse['dps_steps']} steps", "truth"],
                  f"inpainting, DPS: {percent(inpaint['accuracy'])} read as the true digit (the upper half alone: "
                  f"{percent(inverse['accuracy_observed'])})\nPSNR {inpaint['psnr']:.1f} dB (the observed half, "
                  f"zeros below: {inpaint['psnr_observed']:.1f} dB)", missing)
    inverse_panel(fig.add_subplot(grid[0, 1]), [repaint["observed"], repaint["restored"], truth],
                  ["observed", f"RePaint\nU = {inverse['resample']}", "truth"],
                  f"inpainting, RePaint ({run['T']} steps, each resampled {inverse['resample']} x): "
                  f"{percent(repaint['accuracy'])} read as the true digit\nPSNR {repaint['psnr']:.1f} dB", missing)
    inverse_panel(fig.add_subplot(grid[1, 0]), [superres["nearest"], superres["bilinear"], superres["restored"], truth],
                  ["observed 4x4\n(= nearest)", "bilinear", f"DPS\n{inverse['dps_steps']} steps", "truth"],
                  f"super-resolution (2x2 averages, 8x8 -> 4x4): DPS {superres['psnr']:.1f} dB\n(baselines: bilinear "
                  f"{superres['psnr_bilinear']:.1f} dB, nearest {superres['psnr_nearest']:.1f} dB)")
    inverse_panel(fig.add_subplot(grid[1, 1]), [np.clip(deblur["observed"], 0, 16), deblur["restored"], truth],
                  ["observed\n(blurred)", f"DPS\n{inverse['dps_steps']} steps", "truth"],
                  f"deblurring (Gaussian blur, sigma = 1 pixel): DPS {deblur['psnr']:.1f} dB\n(the blurred input "
                  f"itself: {deblur['psnr_observed']:.1f} dB)")
    readme = ("" if quick else "\nwhat the README's run reached (3,200 steps, 100 test digits, 250 DPS steps, seed 0): "
              "inpainting 89% (DPS) / 61% (RePaint); super-resolution 16.5 dB (bilinear 12.6, nearest 12.9); "
              "deblurring 21.3 dB (blurred input 11.8)")
    fig.suptitle(f"inverse problems y = A x with the DDPM as the prior (its unconditional half): the first {n} test "
                 f"digits, DPS with {inverse['dps_steps']} steps (evaluate's: 250; each costs a forward "
                 f"and a backward pass of the U-Net)\nPSNR on the 0..16 scale over all {n} digits; accuracy: the "
                 f"metrics classifier on the completed digits\n{describe(run)} [{budget(run, quick)}]{readme}",
                 fontsize=9)
    return save_figure(fig, out_dir, "sec8_inverse_problems.png", quick)


def summary(experiment: dict) -> dict:
    """The measured numbers behind the figures, for the tour's report."""
    run, sweep, inverse = experiment["run"], experiment["sweep"], experiment["inverse"]
    n, per_label, r = inverse["n"], sweep["per_label"], inverse["tasks"]
    result: dict = {"training steps": run["steps"]}
    for row in sweep["rows"]:
        result[f"w = {row['w']:g}: accuracy / Frechet digit distance ({per_label} per label)"] = (
            f"{100 * row['accuracy']:.0f}% / {row['frechet']:.2f}")
    result |= {f"{len(sweep['labels'])} real training digits: Frechet digit distance": sweep["frechet_real"],
               f"inpainting {n} test digits, DPS: read as the true digit": f"{100 * r['inpaint_dps']['accuracy']:.0f}%",
               "... RePaint": f"{100 * r['inpaint_repaint']['accuracy']:.0f}%",
               "... the observed upper half alone": f"{100 * inverse['accuracy_observed']:.0f}%",
               "super-resolution, DPS (dB)": r["superres_dps"]["psnr"],
               "... bilinear / nearest (dB)": f"{r['superres_dps']['psnr_bilinear']:.2f} / "
                                              f"{r['superres_dps']['psnr_nearest']:.2f}",
               "deblurring, DPS (dB)": r["deblur_dps"]["psnr"],
               "... the blurred input (dB)": r["deblur_dps"]["psnr_observed"]}
    return result


def run(out_dir: str = "demo_output", quick: bool = False, full: bool = False) -> tuple[list[str], dict]:
    """The figures and the measured numbers; ``full``: the README's training and protocols."""
    # run_experiment(quick) when not full: the form a caller (or a test) that wraps it knows
    experiment = run_experiment(quick, full=True) if full else run_experiment(quick)
    figures = [figure_conditional(experiment, out_dir), figure_sweep(experiment, out_dir),
               figure_inverse(experiment, out_dir)]
    return figures, summary(experiment)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return run(out_dir, quick)[0]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
