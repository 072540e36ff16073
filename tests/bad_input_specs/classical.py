"""Bad-input entries of the classical half: the data sets, densities, samplers and density estimators."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from scratchgen import data, distributions, sampling
from scratchgen.density import CategoricalMixture, GaussianMixture, GenerativeClassifier, KernelDensity

from . import entry, exempt

RNG = np.random.default_rng(0)
X1 = RNG.normal(size=60)
X2 = RNG.normal(size=(60, 2))
Y2 = (X2[:, 0] > 0).astype(int)
CATEGORIES = RNG.integers(0, 4, size=(60, 3)).astype(float)
PROBS = np.array([0.2, 0.5, 0.3])
SAVED = str(Path(tempfile.mkdtemp(prefix="scratchgen_bad_input_")) / "gmm.npz")


# ------------------------------------------------------------------------------------- data sets
for _toy in (data.checkerboard, data.swiss_roll):
    entry(_toy, kinds={"n": "count", "seed": "rng"}, n=10, seed=0)
for _toy in (data.spiral, data.two_moons):
    entry(_toy, kinds={"n": "count", "noise": "nonnegative", "seed": "rng"}, n=10, noise=0.1, seed=0)
entry(
    data.grid_of_gaussians,
    kinds={"n": "count", "side": "count", "spacing": "positive", "std": "positive", "seed": "rng"},
    n=10,
    side=3,
    spacing=2.0,
    std=0.05,
    seed=0,
)
entry(
    data.ring_of_gaussians,
    kinds={"n": "count", "n_modes": "count", "radius": "positive", "std": "positive", "seed": "rng"},
    n=10,
    n_modes=4,
    radius=2.0,
    std=0.05,
    seed=0,
)
entry(data.grid_modes, kinds={"side": "count", "spacing": "positive"}, side=3, spacing=2.0)
entry(data.ring_modes, kinds={"n_modes": "count", "radius": "positive"}, n_modes=4, radius=2.0)
entry(data.lecture_mixture_1d, kinds={"n": "count", "seed": "rng"}, n=10, seed=0)
entry(data.lecture_mixture_1d_pdf, kinds={"x": "tensor"}, x=X1)
entry(data.make_toy, kinds={"name": "choice", "n": "count", "seed": "rng"}, name="ring", n=10, seed=0)
entry(data.load_digits, kinds={"split": "choice", "dtype": "choice"}, split="train", dtype=np.float64)

# ------------------------------------------------------------------------------------- distributions
for _special in (distributions.erfc, distributions.log_ndtr, distributions.ndtr):
    entry(_special, kinds={"x": "tensor"}, mentions={"x": "x"}, x=X1)
entry(distributions.ndtri, kinds={"u": "tensor"}, u=np.array([0.1, 0.5]))
entry(distributions.Normal, kinds={"mu": "real", "sigma": "positive"}, mu=0.0, sigma=1.0)
for _method in ("log_prob", "pdf", "cdf", "log_cdf"):
    entry(
        getattr(distributions.Normal, _method),
        functools.partial(lambda x, m: getattr(distributions.Normal(), m)(x), m=_method),
        kinds={"x": "tensor"},
        x=X1,
    )
entry(distributions.Normal.ppf, lambda u: distributions.Normal().ppf(u), kinds={"u": "tensor"}, u=np.array([0.3]))
entry(
    distributions.Normal.sample,
    lambda size, rng: distributions.Normal().sample(size, rng),
    kinds={"size": "nonnegative_count", "rng": "rng"},
    size=5,
    rng=0,
)
entry(distributions.MultivariateNormal, kinds={"mean": "data", "cov": "data"}, mean=np.zeros(2), cov=np.eye(2))
_MVN = distributions.MultivariateNormal(np.zeros(2), np.eye(2))
for _method in ("mahalanobis_sq", "log_prob", "pdf"):
    entry(
        getattr(distributions.MultivariateNormal, _method),
        functools.partial(lambda x, m: getattr(_MVN, m)(x), m=_method),
        kinds={"x": "values"},
        x=X2,
    )
entry(
    distributions.MultivariateNormal.sample,
    lambda size, rng: _MVN.sample(size, rng),
    kinds={"size": "nonnegative_count", "rng": "rng"},
    size=5,
    rng=0,
)

# ------------------------------------------------------------------------------------- samplers
entry(sampling.check_probabilities, kinds={"probs": "probabilities"}, probs=PROBS)
entry(sampling.discrete_cdf, kinds={"probs": "probabilities"}, probs=PROBS)
entry(
    sampling.sample_discrete,
    kinds={"probs": "probabilities", "size": "nonnegative_count", "rng": "rng"},
    probs=PROBS,
    size=5,
    rng=0,
)
entry(sampling.AliasTable, kinds={"probs": "probabilities"}, probs=PROBS)
entry(
    sampling.AliasTable.sample,
    lambda size, rng: sampling.AliasTable(PROBS).sample(size, rng),
    kinds={"size": "nonnegative_count", "rng": "rng"},
    size=5,
    rng=0,
)
entry(sampling.as_generator, kinds={"rng": "rng"}, rng=0)
entry(
    sampling.inverse_transform,
    kinds={"ppf": "function", "size": "nonnegative_count", "rng": "rng"},
    ppf=lambda u: -np.log1p(-u),
    size=5,
    rng=0,
)


def _gaussian_pdf(x):
    return np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)


@functools.cache
def _inverse_cdf() -> sampling.NumericalInverseCDF:
    return sampling.NumericalInverseCDF(_gaussian_pdf, u_resolution=1e-8)


entry(
    sampling.NumericalInverseCDF,
    kinds={"pdf": "function", "u_resolution": "positive", "center": "real", "max_intervals": "count"},
    pdf=_gaussian_pdf,
    u_resolution=1e-8,
    center=0.0,
    max_intervals=50_000,
)
entry(sampling.NumericalInverseCDF.ppf, lambda u: _inverse_cdf().ppf(u), kinds={"u": "tensor"}, u=np.array([0.3]))
entry(sampling.NumericalInverseCDF.cdf, lambda x: _inverse_cdf().cdf(x), kinds={"x": "tensor"}, x=X1)
entry(
    sampling.NumericalInverseCDF.sample,
    lambda size, rng: _inverse_cdf().sample(size, rng),
    kinds={"size": "nonnegative_count", "rng": "rng"},
    size=5,
    rng=0,
)
entry(
    sampling.NumericalInverseCDF.u_error,
    lambda points_per_interval: _inverse_cdf().u_error(points_per_interval),
    kinds={"points_per_interval": "count"},
    points_per_interval=4,
)
entry(
    sampling.rejection_sample,
    kinds={"log_target": "function", "log_M": "real", "size": "count", "rng": "rng", "max_proposals": "count"},
    log_target=lambda x: -(x**2) / 2,
    proposal=distributions.Normal(0, 2),
    log_M=np.log(2.0) + 0.5 * np.log(2 * np.pi),
    size=10,
    rng=0,
    max_proposals=10_000,
)


def _log_density(x):
    return -0.5 * np.sum(x**2, axis=-1)


def _tensor_log_density(x):
    return -(x**2).sum(axis=-1) / 2


entry(
    sampling.metropolis_hastings,
    kinds={
        "log_prob": "function",
        "x0": "data",
        "n_steps": "count",
        "step_size": "positive",
        "n_chains": "count",
        "rng": "rng",
    },
    log_prob=_log_density,
    x0=np.zeros(2),
    n_steps=20,
    step_size=1.0,
    n_chains=2,
    rng=0,
)
entry(
    sampling.mala,
    kinds={
        "log_prob": "function",
        "x0": "data",
        "n_steps": "count",
        "step_size": "positive",
        "n_chains": "count",
        "rng": "rng",
    },
    log_prob=_tensor_log_density,
    x0=np.zeros(2),
    n_steps=10,
    step_size=0.5,
    n_chains=2,
    rng=0,
)
entry(
    sampling.hmc,
    kinds={
        "log_prob": "function",
        "x0": "data",
        "n_steps": "count",
        "step_size": "positive",
        "n_leapfrog": "count",
        "n_chains": "count",
        "rng": "rng",
    },
    log_prob=_tensor_log_density,
    x0=np.zeros(2),
    n_steps=5,
    step_size=0.3,
    n_leapfrog=3,
    n_chains=2,
    rng=0,
)
entry(
    sampling.leapfrog,
    kinds={"x": "data", "p": "data", "grad_log_prob": "function", "step_size": "positive", "n_steps": "count"},
    x=np.zeros(2),
    p=np.ones(2),
    grad_log_prob=lambda x: -x,
    step_size=0.1,
    n_steps=3,
)
_CHAIN = np.cumsum(RNG.normal(size=(2, 200)), axis=1) * 0.1 + RNG.normal(size=(2, 200))
for _diagnostic in (sampling.autocorrelation_function, sampling.split_rhat):
    entry(_diagnostic, kinds={"x": "data"}, x=_CHAIN)
for _diagnostic in (sampling.autocorrelation_time, sampling.effective_sample_size):
    entry(_diagnostic, kinds={"x": "data", "c": "positive"}, x=_CHAIN, c=5.0)
exempt("scratchgen.density._validation.NotFittedError", "an exception class")
exempt("scratchgen.sampling.mcmc.MCMCResult", "a result record (chains and acceptance rates), built by the samplers")


# ------------------------------------------------------------------------------------- estimators
@functools.cache
def _fitted(kind: str):
    if kind == "gmm":
        return GaussianMixture(2, seed=0).fit(X2)
    if kind == "kde":
        return KernelDensity().fit(X2)
    if kind == "kde1":
        return KernelDensity().fit(X1)
    if kind == "categorical":
        return CategoricalMixture(2, seed=0).fit(CATEGORIES)
    return GenerativeClassifier(GaussianMixture(1)).fit(X2, Y2)


entry(
    GaussianMixture,
    lambda n_components, covariance_type, tol, reg_covar, max_iter, n_init, init, seed, X: GaussianMixture(
        n_components,
        covariance_type=covariance_type,
        tol=tol,
        reg_covar=reg_covar,
        max_iter=max_iter,
        n_init=n_init,
        init=init,
        seed=seed,
    ).fit(X),
    kinds={
        "n_components": "count",
        "covariance_type": "choice",
        "tol": "nonnegative",
        "reg_covar": "nonnegative",
        "max_iter": "count",
        "n_init": "count",
        "init": "choice",
        "seed": "rng",
    },
    n_components=2,
    covariance_type="full",
    tol=1e-3,
    reg_covar=1e-6,
    max_iter=20,
    n_init=1,
    init="kmeans++",
    seed=0,
    X=X2,
)
entry(
    GaussianMixture.fit,
    lambda X, sample_weight: GaussianMixture(2, seed=0).fit(X, sample_weight),
    kinds={"X": "data", "sample_weight": "data"},
    X=X2,
    sample_weight=np.ones(60),
)
for _method in ("score_samples", "predict_proba", "predict", "bic", "aic"):
    entry(
        getattr(GaussianMixture, _method),
        functools.partial(lambda X, m: getattr(_fitted("gmm"), m)(X), m=_method),
        kinds={"X": "data"},
        X=X2,
        unfitted=functools.partial(lambda m: getattr(GaussianMixture(2), m)(X2), m=_method),
    )
entry(
    GaussianMixture.score,
    lambda X, sample_weight: _fitted("gmm").score(X, sample_weight),
    kinds={"X": "data", "sample_weight": "data"},
    X=X2,
    sample_weight=np.ones(60),
    unfitted=lambda: GaussianMixture(2).score(X2),
)
entry(
    GaussianMixture.n_parameters,
    lambda: _fitted("gmm").n_parameters(),
    kinds={},
    unfitted=lambda: GaussianMixture(2).n_parameters(),
)
entry(
    GaussianMixture.sample,
    lambda n, rng: _fitted("gmm").sample(n, rng),
    kinds={"n": "count", "rng": "rng"},
    n=5,
    rng=0,
    unfitted=lambda: GaussianMixture(2).sample(5),
)

entry(
    KernelDensity,
    lambda bandwidth, kernel, bounds, seed, X: KernelDensity(bandwidth, kernel, bounds, seed).fit(X),
    kinds={"bandwidth": "positive", "kernel": "choice", "seed": "rng"},
    bandwidth=0.5,
    kernel="gaussian",
    bounds=None,
    seed=0,
    X=X2,
)
entry(
    KernelDensity.fit,
    lambda X, sample_weight: KernelDensity().fit(X, sample_weight),
    kinds={"X": "data", "sample_weight": "data"},
    X=X2,
    sample_weight=np.ones(60),
)
for _method in ("score_samples", "score", "pdf"):
    entry(
        getattr(KernelDensity, _method),
        functools.partial(lambda X, m: getattr(_fitted("kde"), m)(X), m=_method),
        kinds={"X": "data"},
        X=X2,
        unfitted=functools.partial(lambda m: getattr(KernelDensity(), m)(X2), m=_method),
    )
entry(
    KernelDensity.sample,
    lambda n, rng: _fitted("kde").sample(n, rng),
    kinds={"n": "count", "rng": "rng"},
    n=5,
    rng=0,
    unfitted=lambda: KernelDensity().sample(5),
)
entry(
    KernelDensity.evaluate_grid,
    lambda grid_points: _fitted("kde1").evaluate_grid(grid_points),
    kinds={"grid_points": "count"},
    grid_points=2048,
    unfitted=lambda: KernelDensity().evaluate_grid(),
)

entry(
    CategoricalMixture,
    lambda n_components, n_categories, alpha, tol, max_iter, n_init, init, seed, X: CategoricalMixture(
        n_components,
        n_categories=n_categories,
        alpha=alpha,
        tol=tol,
        max_iter=max_iter,
        n_init=n_init,
        init=init,
        seed=seed,
    ).fit(X),
    kinds={
        "n_components": "count",
        "n_categories": "count",
        "alpha": "positive",
        "tol": "nonnegative",
        "max_iter": "count",
        "n_init": "count",
        "init": "choice",
        "seed": "rng",
    },
    n_components=2,
    n_categories=4,
    alpha=0.01,
    tol=1e-4,
    max_iter=20,
    n_init=1,
    init="kmeans++",
    seed=0,
    X=CATEGORIES,
)
entry(
    CategoricalMixture.fit,
    lambda X, sample_weight: CategoricalMixture(2, seed=0).fit(X, sample_weight),
    kinds={"X": "data", "sample_weight": "data"},
    X=CATEGORIES,
    sample_weight=np.ones(60),
)
for _method in ("score_samples", "score", "predict_proba", "predict"):
    entry(
        getattr(CategoricalMixture, _method),
        functools.partial(lambda X, m: getattr(_fitted("categorical"), m)(X), m=_method),
        kinds={"X": "data"},
        X=CATEGORIES,
        unfitted=functools.partial(lambda m: getattr(CategoricalMixture(2), m)(CATEGORIES), m=_method),
    )
entry(
    CategoricalMixture.sample,
    lambda n, rng: _fitted("categorical").sample(n, rng),
    kinds={"n": "count", "rng": "rng"},
    n=5,
    rng=0,
    unfitted=lambda: CategoricalMixture(2).sample(5),
)

entry(
    GenerativeClassifier,
    lambda estimator, priors: GenerativeClassifier(estimator, priors).fit(X2, Y2),
    kinds={"estimator": "function", "priors": "probabilities"},
    estimator=GaussianMixture(1),
    priors=[0.5, 0.5],
)
entry(
    GenerativeClassifier.fit,
    lambda X, y: GenerativeClassifier(GaussianMixture(1)).fit(X, y),
    kinds={"X": "data", "y": "labels"},
    X=X2,
    y=Y2,
)
for _method in ("joint_log_likelihood", "score_samples", "predict_log_proba", "predict_proba", "predict"):
    entry(
        getattr(GenerativeClassifier, _method),
        functools.partial(lambda X, m: getattr(_fitted("classifier"), m)(X), m=_method),
        kinds={"X": "data"},
        X=X2,
        unfitted=functools.partial(lambda m: getattr(GenerativeClassifier(GaussianMixture(1)), m)(X2), m=_method),
    )
entry(
    GenerativeClassifier.score,
    lambda X, y: _fitted("classifier").score(X, y),
    kinds={"X": "data", "y": "labels"},
    X=X2,
    y=Y2,
    unfitted=lambda: GenerativeClassifier(GaussianMixture(1)).score(X2, Y2),
)

# save / load of the estimators (shared through their mixin)
from scratchgen.density._persistence import SaveLoadMixin  # noqa: E402

entry(
    SaveLoadMixin.save,
    lambda path: _fitted("gmm").save(path),
    kinds={"path": "path"},
    path=SAVED,
    unfitted=lambda: GaussianMixture(2).save(SAVED + ".unfitted.npz"),
)
entry(
    SaveLoadMixin.load,
    lambda path: (_fitted("gmm").save(SAVED), GaussianMixture.load(path)),
    kinds={"path": "path"},
    path=SAVED,
)
