"""The tour: every lecture section's demo in lecture order, its figures, and one HTML report of them all.

    python demos/tour.py [--out demo_output] [--quick | --full] [--sections gan,vae]
    scratchgen tour      (the same, from the installed command)

The lecture's order: the likelihood, sampling (inverse transform, rejection, MCMC), GMM/EM, KDE, why generative
models, the curse of dimensionality, the GAN, the VAE, the DDPM, conditional generation and inverse problems.
Each section runs a piece of a ``demos/secN_*.py`` script (each is also a standalone script) and lands in
``DIR/index.html`` with its figures, the equation it illustrates, the numbers the demo measured, the code that
made it and the command that reproduces it (``scratchgen/report.py`` writes the page).

Three budgets: the default (the demos' own budget: the README's networks trained for a bounded number of steps,
about 5 minutes on two cores), ``--quick`` (tiny networks for a few steps: every figure in under a minute, a
first look whose numbers mean nothing yet) and ``--full`` (the deep models at the README's settings: an hour
or more on two cores). The budget is written on every figure and in the report.

Ctrl-C stops the tour (the training loop finishes its current step first): the sections that finished, and
whatever figures the interrupted one had written, stay, and the report is written for them. A later run with
``--sections`` updates those sections of the report and keeps the others.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")

from scratchgen.report import SectionReport, load_results, write_report  # noqa: E402

DEMO_DIR = Path(__file__).resolve().parent

MODES = ("quick", "default", "full")
BUDGETS = {  # what each mode means, for the sections that train a network and for the others
    "quick": ("quick settings: tiny networks trained for a few steps (every figure says so); the numbers only show "
              "that everything runs", "quick sizes: fewer samples, smaller figures"),
    "default": ("demo budget: the README's networks trained for a bounded number of steps (written on every "
                "figure); --full trains the README's settings", "full sizes"),
    "full": ("the README's settings: the networks and epochs of `scratchgen train`", "full sizes"),
}


@dataclass(frozen=True)
class Section:
    """A lecture section: what it illustrates and which demo functions draw it.

    ``functions`` are figure functions of the demo, ``f(out_dir, quick, numbers=dict) -> path``; without them
    the demo's ``run(out_dir, quick, full) -> (paths, numbers)`` draws the whole section."""

    key: str
    title: str
    summary: str
    equation: str
    code: tuple[str, ...]
    demo: str | None = None
    functions: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    trains: bool = False  # a deep model: its budget is the mode's training budget
    note: str = ""

    def command(self, mode: str) -> str:
        flag = {"quick": " --quick", "default": "", "full": " --full"}[mode]
        if self.demo is None:
            return "pytest -q " + " ".join(c for c in self.code if c.startswith("tests/"))
        return f"python demos/tour.py --sections {self.key}{flag}"


SECTIONS = (
    Section("likelihood", "Evaluating p(x): the likelihood",
            "p(x) of a Gaussian in one and in d dimensions, in log space; every later section measures a model "
            "by it (EM's climb, the KDE's held-out gap, the VAE's and the DDPM's nats per digit).",
            "log N(x | mu, sigma^2) = -(x - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2\n"
            "log N(x | mu, Sigma) = -(1/2) (x - mu)^T Sigma^-1 (x - mu) - (1/2) log det Sigma - (d/2) log(2 pi)",
            ("scratchgen/distributions.py", "tests/scratchgen/test_distributions.py"),
            note="No demo of its own (none draws only the likelihood): the N(0, 1) pdf and CDF are drawn in the "
                 "inverse-transform section, the mean log-likelihood EM climbs in the GMM/EM section. Its checks "
                 "are the tests below (SciPy and mpmath as oracles)."),
    Section("inverse-transform", "Sampling: the inverse transform",
            "Discrete: the CDF F_i and a uniform u pick x_i (also the O(1) alias table). Continuous: x = F^-1(u) "
            "for N(0, 1). When only p(x) is known: F^-1 built numerically from the pdf of the lecture's mixture.",
            "u ~ U(0, 1);  discrete: x_i with F_(i-1) <= u < F_i,  F_i = sum_(j<=i) p(x_j);  continuous: x = F^-1(u)",
            ("scratchgen/sampling/inverse_transform.py", "scratchgen/sampling/discrete.py",
             "demos/sec2_sampling.py"),
            demo="sec2_sampling.py", functions=("figure_discrete", "figure_continuous", "figure_numerical_inverse"),
            figures=("sec2_discrete_inverse_transform.png", "sec2_continuous_inverse_transform.png",
                     "sec2_numerical_inverse_cdf.png")),
    Section("rejection", "Sampling: rejection sampling",
            "When F^-1 is out of reach: propose from q, accept under the envelope M q(x) >= p(x). Target: the "
            "lecture's 1-D mixture; proposal N(0, 4^2).",
            "x ~ q(x), u ~ U(0, 1); keep x if u M q(x) <= p(x);  acceptance rate = 1/M",
            ("scratchgen/sampling/rejection.py", "demos/sec2_sampling.py"),
            demo="sec2_sampling.py", functions=("figure_rejection",), figures=("sec2_rejection_sampling.png",)),
    Section("mcmc", "Sampling: Markov chain Monte Carlo",
            "Random-walk Metropolis-Hastings with three step sizes (traces, autocorrelation time, effective "
            "sample size), then MH against MALA and HMC, whose gradients come from autograd_lite.",
            "x' = x + sigma eps, eps ~ N(0, I);  accept with probability min(1, p(x') / p(x))\n"
            "ESS = N / tau,  tau = 1 + 2 sum_k rho_k",
            ("scratchgen/sampling/mcmc.py", "scratchgen/sampling/diagnostics.py", "demos/sec2_sampling.py"),
            demo="sec2_sampling.py", functions=("figure_metropolis_hastings", "figure_gradient_mcmc"),
            figures=("sec2_metropolis_hastings.png", "sec2_gradient_mcmc.png")),
    Section("gmm-em", "Learning p(x): the Gaussian mixture by EM",
            "The lecture's example (w = 0.3, 0.4, 0.3; mu = -5, 0, 5; sigma = 0.8, 1, 0.5), EM started from the "
            "lecture's guess, iteration by iteration; the likelihood never decreases.",
            "E-step: p(k | x_n) = w_k N(x_n | mu_k, sigma_k^2) / sum_j w_j N(x_n | mu_j, sigma_j^2)\n"
            "M-step: N_k = sum_n p(k | x_n);  w_k = N_k / N;  mu_k = sum_n p(k | x_n) x_n / N_k;\n"
            "        sigma_k^2 = sum_n p(k | x_n) (x_n - mu_k)^2 / N_k",
            ("scratchgen/density/gmm.py", "demos/sec3_density.py"),
            demo="sec3_density.py", functions=("figure_em",), figures=("sec3_em_iterations.png",)),
    Section("kde", "Learning p(x): the kernel density estimate",
            "A kernel at every sample; the bandwidth sets the smoothness (Scott's rule, cross-validation); "
            "sampling from the GMM and the KDE in 1-D and on a 2-D ring.",
            "p_hat(x) = (1/N) sum_n K(x; x_n, sigma);  sampling: pick x_i uniformly, then x ~ N(x_i, sigma^2)",
            ("scratchgen/density/kde.py", "scratchgen/density/gmm.py", "demos/sec3_density.py"),
            demo="sec3_density.py", functions=("figure_kde", "figure_sampling"),
            figures=("sec3_kde.png", "sec3_sampling.png")),
    Section("why-generative", "Why generative models",
            "A logistic regression p(y|x) is sure of itself on a noisy digit and on pure noise; a generative "
            "model of p(x, y) also gives p(x), and flags them.",
            "p(x, y) = p(x | y) p(y);  p(x) = sum_y p(x | y) p(y);  p(y | x) = p(x | y) p(y) / p(x)",
            ("scratchgen/density/classifier.py", "scratchgen/density/categorical_mixture.py",
             "demos/sec4_why_generative.py"),
            demo="sec4_why_generative.py", figures=("sec4_why_generative.png", "sec4_ood_scores.png")),
    Section("curse-of-dimensionality", "The curse of dimensionality",
            "The same two-component mixture in d = 1 ... 32 dimensions, 500 training points: the KDE's held-out "
            "gap to the truth grows with d, the GMM's (the right model) does not.",
            "gap(d) = (1/d) E_test[ log p(x) - log p_hat(x) ]  (a KL estimate, nats per dimension)",
            ("scratchgen/density/kde.py", "scratchgen/density/gmm.py", "demos/sec3_density.py"),
            demo="sec3_density.py", functions=("figure_curse",), figures=("sec3_curse_of_dimensionality.png",)),
    Section("gan", "The generative adversarial network",
            "Three games on the 8-mode ring with the same players and budget (the lecture's minimax loss, the "
            "non-saturating loss, and packing against mode collapse), and the DCGAN pair on the digits.",
            "min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))];  non-saturating: max_G E_z[log D(G(z))]",
            ("scratchgen/models/gan.py", "scratchgen/metrics.py", "scratchgen/training.py", "demos/sec5_gan.py"),
            demo="sec5_gan.py", trains=True,
            figures=("sec5_gan_training.png", "sec5_gan_losses.png", "sec5_gan_digits.png")),
    Section("vae", "The variational auto-encoder",
            "The README's VAE on the 8x8 digits (categorical decoder, IWAE bound), and one with a 2-D latent "
            "space drawn as a map; reconstructions, samples, interpolations, test NLL in nats.",
            "ELBO(x) = E_q(z|x)[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x),  z = mu + sigma * eta\n"
            "L_k(x) = E[log (1/k) sum_i p(x, z_i) / q(z_i | x)]  (IWAE; k = 1: the ELBO)",
            ("scratchgen/models/vae.py", "scratchgen/models/networks.py", "scratchgen/training.py",
             "demos/sec6_vae.py"),
            demo="sec6_vae.py", trains=True,
            figures=("sec6_reconstructions.png", "sec6_samples.png", "sec6_interpolation.png",
                     "sec6_latent_manifold.png", "sec6_training_curves.png")),
    Section("ddpm", "The denoising diffusion probabilistic model",
            "The forward process on a digit and the swiss roll; a time-conditioned MLP (swiss roll) and a small "
            "U-Net (digits) trained to predict the noise; ancestral and DDIM samples, Chamfer and Frechet scores.",
            "x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,  alpha_bar_t = prod_(s<=t) (1 - beta_s)\n"
            "L_simple = E_(t, x_0, eps) || eps - eps_theta(x_t, t) ||^2\n"
            "x_(t-1) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(1 - beta_t) + sigma_t z",
            ("scratchgen/models/diffusion.py", "scratchgen/models/ddpm.py", "scratchgen/models/networks.py",
             "demos/sec7_ddpm.py"),
            demo="sec7_ddpm.py", trains=True,
            figures=("sec7_ddpm_forward.png", "sec7_ddpm_reverse.png", "sec7_ddpm_samples.png")),
    Section("conditional-inverse", "Conditional generation and inverse problems",
            "A class-conditional U-Net with classifier-free guidance (the sweep over w), and the same network as "
            "a prior for inpainting (DPS, RePaint), super-resolution and deblurring.",
            "eps~(x_t, t, c) = eps(x_t, t, null) + w (eps(x_t, t, c) - eps(x_t, t, null))\n"
            "y = A x;  DPS: after each reverse step, x_(t-1) -= zeta grad_(x_t) || y - A x0_hat(x_t) ||",
            ("scratchgen/models/ddpm.py", "scratchgen/models/inverse.py", "demos/sec8_conditional_inverse.py"),
            demo="sec8_conditional_inverse.py", trains=True,
            figures=("sec8_conditional_samples.png", "sec8_guidance_sweep.png", "sec8_inverse_problems.png")),
)
KEYS = tuple(s.key for s in SECTIONS)


def select_sections(names: str | list[str] | None) -> list[Section]:
    """The sections named (keys, comma-separated or a list; a demo's prefix such as ``sec2`` names all of its
    sections), in lecture order; all of them for None. An unknown name is a ValueError listing the known ones."""
    if names is None:
        return list(SECTIONS)
    if isinstance(names, str):
        names = names.split(",")
    wanted = set()
    for name in (n.strip() for n in names):
        matches = {s.key for s in SECTIONS if s.key == name or (s.demo or "").startswith(name + "_")}
        if not name or not matches:
            raise ValueError(f"unknown section {name!r} (known: {', '.join(KEYS)}, or a demo such as sec2)")
        wanted |= matches
    return [s for s in SECTIONS if s.key in wanted]


_modules: dict[str, ModuleType] = {}


def load_demo(name: str) -> ModuleType:
    """A demo script as a module (each loaded once per tour)."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(Path(name).stem, DEMO_DIR / name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


def run_section(section: Section, out_dir: Path, mode: str) -> tuple[list[str], dict[str, Any]]:
    """Draw one section (one with a demo): (the figures' file names, the measured numbers)."""
    module, quick = load_demo(section.demo), mode == "quick"
    numbers: dict[str, Any] = {}
    if section.functions:
        paths = [getattr(module, name)(str(out_dir), quick, numbers=numbers) for name in section.functions]
    else:
        paths, numbers = module.run(str(out_dir), quick=quick, full=mode == "full")
    return [Path(p).name for p in paths], numbers


def _entry(section: Section, mode: str, **result: Any) -> SectionReport:
    budget = BUDGETS[mode][0 if section.trains else 1] if section.demo else ""
    return SectionReport(key=section.key, title=section.title, summary=section.summary, equation=section.equation,
                         code=list(section.code), command=section.command(mode), budget=budget,
                         figures=list(section.figures), note=section.note, **result)


def _earlier(previous: SectionReport | None, section: Section, mode: str) -> SectionReport:
    """A section not run now: its entry from an earlier tour if that finished, else a 'not run' placeholder."""
    if section.demo is None:
        return _entry(section, mode, status="no demo")
    if previous is not None and previous.status == "done" and previous.title == section.title:
        previous.note = "From an earlier run of the tour. " + section.note
        return previous
    return _entry(section, mode)


def run_tour(out: str | Path = "demo_output", mode: str = "default", sections: str | list[str] | None = None,
             stream: Any = None) -> int:
    """Run the chosen sections in lecture order and write ``out/index.html``. Returns the exit code: 0, 1 when
    a section failed (the others still run), 130 after Ctrl-C (the report is written all the same)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    chosen = select_sections(sections)
    stream = stream or sys.stdout
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = load_results(out_dir)
    results: dict[str, SectionReport] = {}
    interrupted, failed = False, False
    start_all = time.perf_counter()
    for i, section in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {section.title}"
              + (f" (demos/{section.demo})" if section.demo else " (no demo of its own)"), file=stream, flush=True)
        if section.demo is None:
            results[section.key] = _entry(section, mode, status="no demo")
            print("    nothing to run: its entry in the report points to the figures and tests that show it",
                  file=stream, flush=True)
            continue
        for name in section.figures:  # an old figure must not pass for this run's
            (out_dir / name).unlink(missing_ok=True)
        start = time.perf_counter()
        try:
            figures, numbers = run_section(section, out_dir, mode)
        except KeyboardInterrupt:
            results[section.key] = _entry(section, mode, status="interrupted", seconds=time.perf_counter() - start)
            print("    interrupted: writing the report for what finished", file=stream, flush=True)
            interrupted = True
            break
        except Exception as error:  # one broken demo should not cost the report of the others
            traceback.print_exc()
            results[section.key] = _entry(section, mode, status="failed", seconds=time.perf_counter() - start)
            results[section.key].note = f"{type(error).__name__}: {error}"
            failed = True
            continue
        seconds = time.perf_counter() - start
        entry = _entry(section, mode, status="done", seconds=seconds, numbers=numbers)
        entry.figures = figures or entry.figures
        results[section.key] = entry
        print(f"    done in {seconds:.1f} s" + (f": {', '.join(figures)}" if figures else ""), file=stream, flush=True)
    entries = [results.get(s.key) or _earlier(previous.get(s.key), s, mode) for s in SECTIONS]
    ran = ", ".join(s.key for s in chosen) if sections is not None else "every section"
    intro = (f"Budget of this run: {mode} ({BUDGETS[mode][0]}). Ran {ran} in {time.perf_counter() - start_all:.0f} s"
             + (" (stopped by Ctrl-C)" if interrupted else "") + ". Figures sit beside this page; each section "
             "names the code that drew it and the command that draws it again.")
    report = write_report(out_dir, entries, intro=intro)
    print(f"report: {report}", file=stream, flush=True)
    return 130 if interrupted else 1 if failed else 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit code 2, as the scratchgen command
        print(f"tour: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The tour's options (``scratchgen tour`` adds the same ones to its subcommand)."""
    parser = parser or _Parser(prog="python demos/tour.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="folder for the figures and index.html "
                                                             "(default demo_output)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--quick", action="store_true", help="tiny networks for a few steps: a first look, < 3 min")
    budget.add_argument("--full", action="store_true",
                        help="the README's settings for the deep models (an hour or so)")
    parser.add_argument("--sections", help=f"comma-separated: {', '.join(KEYS)} (or a demo, e.g. sec2); "
                                           "default: all")
    return parser


def check_out(out: str) -> None:
    """``--out`` must be a folder (or not exist yet)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        select_sections(args.sections)
        check_out(args.out)
    except ValueError as error:
        print(f"tour: error: {error}", file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full" if args.full else "default"
    return run_tour(args.out, mode, args.sections)


if __name__ == "__main__":
    sys.exit(main())
