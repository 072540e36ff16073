"""VAE and HierarchicalVAE: the bounds against a linear-Gaussian model whose log p(x) is known, the KLs and
pixel likelihoods against Monte Carlo and scipy, gradients against finite differences, sampling, bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special, stats

import autograd_lite as al
from autograd_lite import Tensor, no_grad, ops
from autograd_lite.nn import Parameter
from scratchgen.data import load_digits
from scratchgen.models import VAE, HierarchicalVAE, HierarchicalVAEConfig, VAEConfig, build_model, config_from_dict
from scratchgen.models.vae import (
    ELBO,
    LatentVariableModel,
    PixelLikelihood,
    check_images,
    gaussian_log_density,
    kl_between_normals,
    kl_to_standard_normal,
    standard_normal_log_density,
)
from scratchgen.training import TrainConfig, Trainer

KINDS = ("vae", "hvae")
LIKELIHOODS = ("categorical", "bernoulli", "gaussian")
ARCHITECTURES = ("mlp", "conv")


def tiny(kind: str = "vae", **overrides) -> LatentVariableModel:
    """A seconds-fast model: one hidden layer of 16, two latent dimensions (two at the top too)."""
    values = dict(hidden=(16,), latent_dim=2, seed=0, iwae_k=2) | overrides
    if kind == "hvae":
        return HierarchicalVAE(HierarchicalVAEConfig(**({"top_latent_dim": 2} | values)))
    return VAE(VAEConfig(**values))


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits("train")[0][:8]


@pytest.fixture(scope="module")
def trained() -> dict[str, LatentVariableModel]:
    """A VAE and an HVAE after four quick epochs on 300 digits (an informative posterior, unlike at init)."""
    train, validation = load_digits("train")[0][:300], load_digits("validation")[0][:100]
    models = {}
    for kind in KINDS:
        model = tiny(kind)
        Trainer(model, train, validation, TrainConfig(epochs=4, batch_size=50, lr=1e-2, patience=0),
                progress=False).fit()
        models[kind] = model
    return models


# ----- a linear-Gaussian VAE (probabilistic PCA): log p(x) in closed form ---------------------------------------
D, LATENT, NOISE_SD = 5, 2, 0.5
_rng = np.random.default_rng(20240)
W_TRUE = np.linalg.qr(_rng.standard_normal((D, LATENT)))[0] * np.array([2.0, 1.0])  # orthogonal columns
PRECISION = W_TRUE.T @ W_TRUE + NOISE_SD**2 * np.eye(LATENT)  # diagonal, so the exact posterior is too
A_EXACT = np.linalg.solve(PRECISION, W_TRUE.T)  # E[z|x] = A x
LOG_VAR_EXACT = np.log(NOISE_SD**2 / np.diag(PRECISION))  # Var[z|x], the same for every x


def ppca_data(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, LATENT)) @ W_TRUE.T + NOISE_SD * rng.standard_normal((n, D))


def ppca_log_p(x: np.ndarray) -> np.ndarray:
    """log p(x) = log N(x; 0, W W^T + s^2 I), the oracle."""
    return stats.multivariate_normal(np.zeros(D), W_TRUE @ W_TRUE.T + NOISE_SD**2 * np.eye(D)).logpdf(x)


class LinearGaussianVAE(LatentVariableModel):
    """p(z) = N(0, I), p(x|z) = N(W z, s^2 I) at the true W and s; q(z|x) = N(A x, diag exp(log_var))."""

    def __init__(self, A: np.ndarray, log_var: np.ndarray):
        super().__init__(VAEConfig(likelihood="gaussian", latent_dim=LATENT, hidden=(1,)))
        self.A = Parameter(np.array(A, dtype=np.float64))
        self.log_var = Parameter(np.array(log_var, dtype=np.float64))
        self.W = Tensor(W_TRUE)
        self.noise_log_var = Tensor(np.full(D, 2 * math.log(NOISE_SD)))

    def check_data(self, x, name="x"):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != D:
            raise ValueError(f"{name} must be shaped (n, {D})")
        return x

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu = ops.matmul(x, self.A.T)
        return mu, ops.broadcast_to(self.log_var, mu.shape)

    def decode(self, z: Tensor) -> Tensor:
        return ops.matmul(z, self.W.T)

    def log_weights(self, x, k, rng):
        mu, log_var = self.encode(x)
        z, _ = self._reparameterise(mu, log_var, rng, k)
        return (gaussian_log_density(x, self.decode(z), self.noise_log_var) + standard_normal_log_density(z)
                - gaussian_log_density(z, mu, log_var))

    def elbo(self, x, rng=None):
        x = x if isinstance(x, Tensor) else self.to_tensor(self.check_data(x))
        mu, log_var = self.encode(x)
        z, _ = self._reparameterise(mu, log_var, np.random.default_rng(rng) if isinstance(rng, int) else rng)
        reconstruction = gaussian_log_density(x, self.decode(z), self.noise_log_var)
        kl = kl_to_standard_normal(mu, log_var)
        return ELBO(reconstruction - kl, reconstruction, kl)


def imperfect_encoder(mean_scale: float = 0.7, log_var_shift: float = 0.0) -> LinearGaussianVAE:
    return LinearGaussianVAE(mean_scale * A_EXACT, LOG_VAR_EXACT + log_var_shift)


def analytic_elbo(model: LinearGaussianVAE, x: np.ndarray) -> np.ndarray:
    """E_q[log p(x|z)] - KL(q || p(z)) in closed form for the linear-Gaussian model."""
    m, v = x @ model.A.numpy().T, np.exp(model.log_var.numpy())
    residual = ((x - m @ W_TRUE.T) ** 2).sum(axis=1) + (v * (W_TRUE**2).sum(axis=0)).sum()
    reconstruction = -0.5 * D * math.log(2 * math.pi * NOISE_SD**2) - residual / (2 * NOISE_SD**2)
    return reconstruction - 0.5 * (m**2 + v - 1 - np.log(v)).sum(axis=1)


def test_linear_gaussian_elbo_estimate_matches_its_closed_form():
    """negative_elbo's Monte-Carlo mean (2000 draws) is within 4 standard errors of the closed-form ELBO,
    which is log p(x) - KL(q(z|x) || p(z|x))."""
    model, x = imperfect_encoder(0.8, math.log(2.0)), ppca_data(30, seed=1)
    exact = analytic_elbo(model, x)
    m, v = x @ model.A.numpy().T, np.exp(model.log_var.numpy())
    m_post, v_post = x @ A_EXACT.T, np.exp(LOG_VAR_EXACT)
    kl_to_posterior = 0.5 * (np.log(v_post / v) + (v + (m - m_post) ** 2) / v_post - 1).sum(axis=1)
    np.testing.assert_allclose(exact, ppca_log_p(x) - kl_to_posterior, rtol=1e-10)  # the oracle's own algebra

    estimate = -model.negative_elbo(x, n_samples=2000, rng=2)
    with no_grad():  # the per-draw spread, for the standard error
        draws = model.elbo(np.repeat(x, 2000, axis=0), rng=3).elbo.numpy().reshape(len(x), 2000)
    stderr = draws.std(axis=1, ddof=1) / math.sqrt(2000)
    assert np.all(np.abs(estimate - exact) < 4 * stderr)


def test_linear_gaussian_elbo_lies_below_log_p_at_every_point():
    """With an imperfect encoder the ELBO (2000 draws) is below log p(x) at every data point."""
    model, x = imperfect_encoder(0.8, math.log(2.0)), ppca_data(30, seed=1)
    gap = ppca_log_p(x) + model.negative_elbo(x, n_samples=2000, rng=2)
    assert np.all(gap > 0)
    assert gap.mean() > 0.3  # the encoder really is imperfect: the test could fail


def test_iwae_estimate_rises_with_k_towards_the_true_log_likelihood():
    """The IWAE estimate log_likelihood(x, k), averaged over 500 points, rises with k = 1, 10, 100, 1000
    (within three standard errors at each step), and at k = 1000 is within 0.05 nats of log p(x)."""
    model, x = imperfect_encoder(0.7, 0.0), ppca_data(500, seed=4)
    log_p = ppca_log_p(x)
    deviations = [model.log_likelihood(x, k, rng=5) - log_p for k in (1, 10, 100, 1000)]
    means = [d.mean() for d in deviations]
    stderrs = [d.std(ddof=1) / math.sqrt(len(x)) for d in deviations]
    for i in range(3):
        assert means[i + 1] > means[i] - 3 * math.hypot(stderrs[i], stderrs[i + 1])
    assert means[3] - means[0] > 0.5  # a real rise (an ELBO gap of ~0.8 nats closes)
    assert all(m < 3 * s for m, s in zip(means, stderrs))  # a lower bound in expectation, for every k
    assert abs(means[3]) < 0.05


def test_exact_posterior_makes_every_importance_weight_equal_to_p_x():
    """With q(z|x) the exact posterior, log p(x, z) - log q(z|x) = log p(x) for every z: L_1 and L_k equal
    log p(x) to rounding error whatever the seed (zero variance), and the ELBO's mean is log p(x)."""
    model, x = LinearGaussianVAE(A_EXACT, LOG_VAR_EXACT), ppca_data(20, seed=6)
    log_p = ppca_log_p(x)
    for seed in (0, 1):
        for k in (1, 7):
            np.testing.assert_allclose(model.log_likelihood(x, k, rng=seed), log_p, rtol=0, atol=1e-10)
        with no_grad():
            np.testing.assert_allclose(model.iwae_bound(x, 1, rng=seed).numpy(), log_p, rtol=0, atol=1e-10)
    # the reparameterised ELBO with a closed-form KL still has variance (its mean is log p(x))
    with no_grad():
        draws = model.elbo(np.repeat(x, 4000, axis=0), rng=7).elbo.numpy().reshape(len(x), 4000)
    assert np.all(np.abs(draws.mean(axis=1) - log_p) < 4 * draws.std(axis=1, ddof=1) / math.sqrt(4000))


def test_log_likelihood_combines_batches_and_passes_into_one_log_sum_exp(digits):
    """log_likelihood in batches of 3 images and passes of 4 samples equals one log-mean-exp over all k = 12
    weights per image (the passes draw the same numbers as one pass would)."""
    model = tiny()
    chunked = model.log_likelihood(digits, k=12, rng=0, batch_size=3, samples_per_pass=4)
    rng, expected = np.random.default_rng(0), []
    model.eval()
    with no_grad():
        for start in range(0, len(digits), 3):
            w = model.log_weights(model.to_tensor(model.check_data(digits[start:start + 3])), 12, rng).numpy()
            expected.append(special.logsumexp(w.astype(np.float64), axis=0) - math.log(12))
    assert chunked.dtype == np.float64 and chunked.shape == (len(digits),)
    np.testing.assert_allclose(chunked, np.concatenate(expected), rtol=1e-6)


# ----- the Gaussian algebra -----------------------------------------------------------------------------------------
def _gaussians(seed: int, n: int = 4, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1.5, (n, d)), rng.normal(0, 0.8, (n, d))


def test_kl_to_standard_normal_matches_a_monte_carlo_estimate():
    """KL(N(mu, sigma^2) || N(0, I)) in closed form is within 4 standard errors of the mean of
    log q(z) - log p(z) over 200000 draws z ~ q (scipy's densities), for four (mu, sigma) pairs."""
    mu, log_var = _gaussians(0)
    closed = kl_to_standard_normal(Tensor(mu), Tensor(log_var)).numpy()
    sd = np.exp(0.5 * log_var)
    z = mu + sd * np.random.default_rng(1).standard_normal((200_000, *mu.shape))
    log_ratio = (stats.norm.logpdf(z, mu, sd) - stats.norm.logpdf(z)).sum(axis=-1)
    stderr = log_ratio.std(axis=0, ddof=1) / math.sqrt(len(z))
    assert np.all(np.abs(closed - log_ratio.mean(axis=0)) < 4 * stderr)
    assert np.all(closed > 0)


def test_kl_between_normals_matches_a_monte_carlo_estimate():
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) in closed form is within 4 standard errors of a
    200000-draw Monte-Carlo estimate, and is 0 between equal Gaussians."""
    (mu_q, lv_q), (mu_p, lv_p) = _gaussians(2), _gaussians(3)
    closed = kl_between_normals(Tensor(mu_q), Tensor(lv_q), Tensor(mu_p), Tensor(lv_p)).numpy()
    sd_q, sd_p = np.exp(0.5 * lv_q), np.exp(0.5 * lv_p)
    z = mu_q + sd_q * np.random.default_rng(4).standard_normal((200_000, *mu_q.shape))
    log_ratio = (stats.norm.logpdf(z, mu_q, sd_q) - stats.norm.logpdf(z, mu_p, sd_p)).sum(axis=-1)
    stderr = log_ratio.std(axis=0, ddof=1) / math.sqrt(len(z))
    assert np.all(np.abs(closed - log_ratio.mean(axis=0)) < 4 * stderr)
    same = kl_between_normals(Tensor(mu_q), Tensor(lv_q), Tensor(mu_q), Tensor(lv_q)).numpy()
    np.testing.assert_allclose(same, 0.0, atol=1e-12)


def test_kl_to_standard_normal_is_kl_between_normals_with_a_standard_prior():
    """kl_between_normals with mu_p = 0, log sigma_p^2 = 0 equals kl_to_standard_normal."""
    mu, log_var = _gaussians(5)
    zeros = Tensor(np.zeros_like(mu))
    np.testing.assert_allclose(kl_between_normals(Tensor(mu), Tensor(log_var), zeros, zeros).numpy(),
                               kl_to_standard_normal(Tensor(mu), Tensor(log_var)).numpy(), rtol=1e-12)


def test_gaussian_log_densities_match_scipy():
    """gaussian_log_density and standard_normal_log_density equal scipy's diagonal multivariate normal."""
    mu, log_var = _gaussians(6)
    z = np.random.default_rng(7).standard_normal(mu.shape)
    ours = gaussian_log_density(Tensor(z), Tensor(mu), Tensor(log_var)).numpy()
    theirs = [stats.multivariate_normal(m, np.diag(np.exp(lv))).logpdf(zi) for zi, m, lv in zip(z, mu, log_var)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(standard_normal_log_density(Tensor(z)).numpy(),
                               stats.multivariate_normal(np.zeros(3)).logpdf(z), rtol=1e-12)


# ----- the pixel likelihoods ----------------------------------------------------------------------------------------
def _logits(seed: int, n: int, channels: int, scale: float = 2.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal((n, channels, 64))


def test_categorical_likelihood_sums_to_one_over_the_17_grey_levels():
    """p(x|z) summed over the 17 values of one pixel is 1 (the other 63 pixels at uniform logits, which
    contribute exactly 17^-63), for three pixels and three random logit sets."""
    pixels = PixelLikelihood("categorical")
    for d in (0, 27, 63):
        out = np.zeros((3, 17, 64))
        out[:, :, d] = _logits(d, 3, 17)[:, :, 0]
        x = np.random.default_rng(d).integers(0, 17, (17, 3, 64)).astype(np.float64)
        x[:, :, d] = np.arange(17)[:, None]
        log_p = np.stack([pixels.log_prob(Tensor(out), Tensor(xv)).numpy() for xv in x])
        np.testing.assert_allclose(np.exp(log_p + 63 * math.log(17)).sum(axis=0), 1.0, rtol=1e-10)


def test_categorical_log_prob_is_the_per_pixel_log_softmax():
    """log p(x|z) = sum_d log softmax(logits_d)[x_d], the softmax over the 17 levels (scipy's log_softmax)."""
    out = _logits(1, 5, 17)
    x = np.random.default_rng(2).integers(0, 17, (5, 64))
    expected = np.take_along_axis(special.log_softmax(out, axis=1), x[:, None, :], axis=1).sum(axis=(1, 2))
    ours = PixelLikelihood("categorical").log_prob(Tensor(out), Tensor(x.astype(np.float64))).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_bernoulli_log_prob_matches_scipy():
    """The Bernoulli log p(x|z) on x / 16 is scipy's Bernoulli log-pmf for black-and-white images and the
    cross-entropy t log p + (1 - t) log(1 - p) for grey levels."""
    out = _logits(3, 5, 1)
    p = special.expit(out[:, 0])
    rng = np.random.default_rng(4)
    binary = 16.0 * rng.integers(0, 2, (5, 64))
    grey = rng.integers(0, 17, (5, 64)).astype(np.float64)
    pixels = PixelLikelihood("bernoulli")
    np.testing.assert_allclose(pixels.log_prob(Tensor(out), Tensor(binary)).numpy(),
                               stats.bernoulli.logpmf(binary / 16, p).sum(axis=1), rtol=1e-10)
    t = grey / 16
    cross_entropy = (t * special.log_expit(out[:, 0]) + (1 - t) * special.log_expit(-out[:, 0])).sum(axis=1)
    np.testing.assert_allclose(pixels.log_prob(Tensor(out), Tensor(grey)).numpy(), cross_entropy, rtol=1e-10)


@pytest.mark.parametrize("sigma", [0.1, 0.3])
def test_gaussian_log_prob_matches_scipy(sigma):
    """The Gaussian log p(x|z) is scipy's N(x / 16; sigmoid(logit), sigma^2) log-density summed over pixels."""
    out = _logits(5, 5, 1)
    x = np.random.default_rng(6).integers(0, 17, (5, 64)).astype(np.float64)
    ours = PixelLikelihood("gaussian", gaussian_sigma=sigma).log_prob(Tensor(out), Tensor(x)).numpy()
    expected = stats.norm.logpdf(x / 16, special.expit(out[:, 0]), sigma).sum(axis=1)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_pixel_means_are_the_expected_grey_levels():
    """mean() is sum_v v softmax_v (categorical) and 16 sigmoid(logit) (Bernoulli, Gaussian)."""
    out = _logits(7, 3, 17)
    np.testing.assert_allclose(PixelLikelihood("categorical").mean(out),
                               (np.arange(17)[None, :, None] * special.softmax(out, axis=1)).sum(axis=1), rtol=1e-12)
    out = _logits(8, 3, 1)
    for name in ("bernoulli", "gaussian"):
        np.testing.assert_allclose(PixelLikelihood(name).mean(out), 16 * special.expit(out[:, 0]), rtol=1e-12)


@pytest.mark.parametrize("name", ["categorical", "bernoulli"])
def test_pixel_sampler_draws_levels_with_the_model_probabilities(name):
    """In 4000 draws from one set of logits, every pixel's frequency of every level is within 5 standard
    errors of its probability (softmax over 17 levels, or sigmoid for 16 vs 0)."""
    pixels, n = PixelLikelihood(name), 4000
    out = _logits(9, 1, pixels.channels, scale=1.0)
    draws = pixels.sample(np.repeat(out, n, axis=0), np.random.default_rng(10))
    if name == "categorical":
        p = special.softmax(out[0], axis=0)  # (17, 64)
        frequency = (draws[None, :, :] == np.arange(17)[:, None, None]).mean(axis=1)
        assert np.array_equal(draws, np.round(draws)) and draws.min() >= 0 and draws.max() <= 16
    else:
        p = special.expit(out[0])  # (1, 64)
        frequency = (draws == 16).mean(axis=0, keepdims=True)
        assert set(np.unique(draws)) <= {0, 16}
    assert np.all(np.abs(frequency - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12)


# ----- gradients ----------------------------------------------------------------------------------------------------
def with_parameters(model: LatentVariableModel, loss):
    """(fn, arrays): fn(*tensors) evaluates ``loss(model)`` with the model's parameters replaced by the given
    tensors, so gradcheck can differentiate with respect to them; arrays are their current values."""
    names = [name for name, _ in model.named_parameters()]
    originals = [param for _, param in model.named_parameters()]
    modules = dict(model.named_modules())

    def put(values):
        for name, value in zip(names, values):
            owner, _, attr = name.rpartition(".")
            object.__setattr__(modules[owner], attr, value)

    def fn(*tensors):
        put(tensors)
        try:
            return loss(model)
        finally:
            put(originals)

    return fn, [param.numpy() for param in originals]


@pytest.mark.parametrize("kind, architecture, likelihood", [
    ("vae", "mlp", "categorical"), ("vae", "mlp", "bernoulli"), ("vae", "mlp", "gaussian"),
    ("hvae", "mlp", "categorical"), ("hvae", "mlp", "gaussian"),
    ("vae", "conv", "categorical"), ("hvae", "conv", "bernoulli"),
])
def test_elbo_and_iwae_gradients_match_finite_differences(kind, architecture, likelihood, digits):
    """The gradients of the per-image ELBO and IWAE bound (k = 3) with respect to every parameter of a tiny
    float64 model match central differences, with the noise fixed by a seeded generator."""
    model = tiny(kind, hidden=(5,), architecture=architecture, likelihood=likelihood).to(np.float64)
    model.eval()
    x = digits[:2] if architecture == "conv" else digits[:3]

    def bounds(m):
        return m.elbo(x, rng=np.random.default_rng(0)).elbo, m.iwae_bound(x, 3, rng=np.random.default_rng(1))

    fn, params = with_parameters(model, bounds)
    options = dict(max_elementwise=8, n_directions=4) if architecture == "conv" else {}
    assert al.gradcheck(fn, params, **options)


def test_the_gradcheck_helper_can_fail(digits):
    """A bound whose noise changes between evaluations fails gradcheck (so the gradient tests can fail)."""
    model = tiny(hidden=(5,)).to(np.float64)
    model.eval()
    rng = np.random.default_rng(0)  # shared across evaluations: new noise each time
    fn, params = with_parameters(model, lambda m: m.elbo(digits[:2], rng=rng).elbo)
    assert not al.gradcheck(fn, params, raise_exception=False)


# ----- the bounds on the real models ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_iwae_bound_with_one_sample_is_the_elbo_in_expectation(kind, trained):
    """L_1 = log p(x, z) - log q(z|x) and the ELBO (closed-form KLs) have the same mean over 3000 draws per
    image: with the same seed both see the same z, and their difference averages to 0 within 4 standard errors."""
    model, x, m = trained[kind], load_digits("validation")[0][:3], 3000
    repeated = np.repeat(x, m, axis=0)
    with no_grad():
        l1 = model.iwae_bound(repeated, 1, rng=0).numpy().astype(np.float64).reshape(len(x), m)
        elbo = model.elbo(repeated, rng=0).elbo.numpy().astype(np.float64).reshape(len(x), m)
    difference = l1 - elbo  # the reconstruction term cancels: log p(z) - log q(z|x) + KL, of mean 0
    assert np.all(difference.std(axis=1) > 0.1)  # they differ draw by draw
    assert np.all(np.abs(difference.mean(axis=1)) < 4 * difference.std(axis=1, ddof=1) / math.sqrt(m))


def test_vae_log_weights_are_log_p_x_z_minus_log_q(trained):
    """The VAE's log weights are log p(x|z) + log N(z; 0, I) - log N(z; mu(x), sigma(x)^2) at
    z = mu + sigma eta, with eta drawn from the given generator (scipy's normal densities)."""
    model, x = trained["vae"], load_digits("validation")[0][:4]
    with no_grad():
        weights = model.log_weights(model.to_tensor(model.check_data(x)), 5, np.random.default_rng(0)).numpy()
        mu, log_var = (t.numpy().astype(np.float64) for t in model.encode(model.to_tensor(model.check_data(x))))
        z = mu + np.exp(0.5 * log_var) * np.random.default_rng(0).standard_normal((5, *mu.shape))
        reconstruction = model.pixels.log_prob(model.decode(model.to_tensor(z)), model.to_tensor(x)).numpy()
    log_prior = stats.norm.logpdf(z).sum(axis=-1)
    log_q = stats.norm.logpdf(z, mu, np.exp(0.5 * log_var)).sum(axis=-1)
    np.testing.assert_allclose(weights, reconstruction + log_prior - log_q, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("kind", KINDS)
def test_iwae_bound_is_the_log_likelihood_estimate_with_the_same_draws(kind, trained):
    """iwae_bound(x, k), the differentiable objective, equals log_likelihood(x, k) with the same seed (one
    batch, one pass: the same draws): log-mean-exp of the k log weights, -log k included."""
    model, x = trained[kind], load_digits("validation")[0][:6]
    with no_grad():
        bound = model.iwae_bound(x, 20, rng=0).numpy()
    np.testing.assert_allclose(bound, model.log_likelihood(x, k=20, rng=0), rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_sampling_from_the_prior_agrees_with_the_importance_weighted_estimate(kind, trained):
    """The simple Monte-Carlo estimate log mean_z p(x|z) over 8000 draws of prior_sample matches the IWAE
    estimate (k = 1000) within 4 of its standard errors + 0.1 nats: the sampler draws from the prior the
    bounds assume."""
    model, x, n = trained[kind], load_digits("validation")[0][:3], 8000
    iwae = model.log_likelihood(x, k=1000, rng=0)
    with no_grad():
        out = model.decode(model.prior_sample(n, np.random.default_rng(1)))
        log_p = np.stack([model.pixels.log_prob(out, model.to_tensor(np.repeat(xi[None], n, axis=0))).numpy()
                          for xi in x]).astype(np.float64)
    simple = special.logsumexp(log_p, axis=1) - math.log(n)
    w = np.exp(log_p - simple[:, None])  # p(x|z_i) / p_hat(x), mean 1
    stderr = w.std(axis=1, ddof=1) / math.sqrt(n)  # the delta method on the log scale
    assert np.all(np.abs(simple - iwae) < 4 * stderr + 0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_iwae_estimate_does_not_decrease_with_k(kind, trained):
    """On a briefly trained model the mean of log_likelihood(x, k) over 20 images does not fall from k = 1 to
    10 to 100 (within three standard errors) and rises overall."""
    model, x = trained[kind], load_digits("validation")[0][:20]
    estimates = [model.log_likelihood(x, k, rng=0) for k in (1, 10, 100)]
    for a, b in zip(estimates, estimates[1:]):
        difference = b - a
        assert difference.mean() > -3 * difference.std(ddof=1) / math.sqrt(len(x))
    assert estimates[-1].mean() > estimates[0].mean()


@pytest.mark.parametrize("kind", KINDS)
def test_elbo_terms_and_kl_warmup(kind, digits):
    """elbo = reconstruction - kl with kl >= 0, and the training loss at KL weight beta is
    -mean(reconstruction - beta kl) (beta = epoch / kl_warmup_epochs)."""
    model = tiny(kind, kl_warmup_epochs=4.0)
    model.eval()
    with no_grad():
        terms = model.elbo(digits, rng=0)
        np.testing.assert_allclose(terms.elbo.numpy(), (terms.reconstruction - terms.kl).numpy(), rtol=1e-6)
        assert np.all(terms.kl.numpy() >= 0)
        loss = model.training_loss(model.to_tensor(model.check_data(digits)), np.random.default_rng(0), epoch=1.0)
    expected = -(terms.reconstruction.numpy() - 0.25 * terms.kl.numpy()).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert model.kl_weight(8.0) == 1.0 and model.kl_weight(0.0) == 0.0


# ----- building, running, sampling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("likelihood", LIKELIHOODS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_model_builds_runs_and_trains(kind, likelihood, architecture, digits):
    """Every kind x likelihood x architecture gives finite per-image bounds and a training loss whose
    gradient reaches every parameter."""
    model = tiny(kind, likelihood=likelihood, architecture=architecture)
    x = digits[:4]
    with no_grad():
        terms = model.elbo(x, rng=0)
        bound = model.iwae_bound(x, 3, rng=0)
    for value in (terms.elbo, terms.reconstruction, terms.kl, bound):
        assert value.shape == (4,) and np.all(np.isfinite(value.numpy()))
    model.train()
    model.training_loss(model.to_tensor(model.check_data(x)), np.random.default_rng(0)).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and np.all(np.isfinite(param.grad.numpy())), name
        assert np.any(param.grad.numpy() != 0), name


@pytest.mark.parametrize("likelihood", LIKELIHOODS)
@pytest.mark.parametrize("kind", KINDS)
def test_samples_are_grey_levels(kind, likelihood):
    """sample(n) gives (n, 8, 8) values in 0..16: whole levels (categorical), 0 or 16 (Bernoulli); the
    decoder means (mean=True) lie in [0, 16]."""
    model = tiny(kind, likelihood=likelihood)
    for samples in (model.sample(7, rng=0), model.sample(7, rng=0, mean=True)):
        assert samples.shape == (7, 8, 8)
        assert samples.min() >= 0 and samples.max() <= 16
    samples = model.sample(50, rng=1)
    if likelihood == "categorical":
        assert np.array_equal(samples, np.round(samples))
    elif likelihood == "bernoulli":
        assert set(np.unique(samples)) <= {0, 16}
    assert len(np.unique(samples)) > 1


@pytest.mark.parametrize("kind", KINDS)
def test_sampling_is_reproducible_with_a_seed(kind):
    """The same seed gives the same samples, another seed others; sampling leaves the training mode alone."""
    model = tiny(kind, dropout=0.3)  # in training mode: sampling must switch the Dropout off
    np.testing.assert_array_equal(model.sample(5, rng=3), model.sample(5, rng=3))
    assert not np.array_equal(model.sample(5, rng=3), model.sample(5, rng=4))
    assert model.training
    model.eval()
    model.sample(2, rng=0)
    assert not model.training


@pytest.mark.parametrize("kind", KINDS)
def test_reconstruct_and_interpolate_shapes_and_ends(kind, digits):
    """reconstruct gives (n, 8, 8) means in [0, 16]; interpolate gives (steps, 8, 8) whose first and last
    images are the reconstructions of its two ends."""
    model = tiny(kind)
    reconstructions = model.reconstruct(digits)
    assert reconstructions.shape == (len(digits), 8, 8)
    if kind == "vae":  # E[x|z] at z = mu(x)
        with no_grad():
            mu, _ = model.encode(model.to_tensor(model.check_data(digits)))
            expected = model.pixels.mean(model.decode(mu).numpy()).reshape(-1, 8, 8)
        np.testing.assert_allclose(reconstructions, expected, rtol=1e-6)
    assert reconstructions.min() >= 0 and reconstructions.max() <= 16
    path = model.interpolate(digits[0], digits[1].reshape(8, 8), steps=6)
    assert path.shape == (6, 8, 8)
    np.testing.assert_allclose(path[0], reconstructions[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(path[-1], reconstructions[1], rtol=1e-5, atol=1e-5)
    assert not np.allclose(path[0], path[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_float64_models_compute_in_float64(kind, digits):
    """After .to(np.float64) the parameters, the bounds and the data the model converts are float64."""
    model = tiny(kind).to(np.float64)
    assert model.dtype == np.float64 and model.check_data(digits).dtype == np.float64
    with no_grad():
        assert model.elbo(digits, rng=0).elbo.dtype == np.float64
        assert model.iwae_bound(digits, 2, rng=0).dtype == np.float64


def test_image_layouts_are_equivalent(digits):
    """(n, 64), (n, 8, 8) and (n, 1, 8, 8) images, and one image as (64,) or (8, 8), give the same bound."""
    model = tiny()
    reference = model.log_likelihood(digits, k=5, rng=0)
    for layout in (digits.reshape(-1, 8, 8), digits.reshape(-1, 1, 8, 8), digits.astype(np.int64).tolist()):
        np.testing.assert_allclose(model.log_likelihood(layout, k=5, rng=0), reference, rtol=1e-6)
    first = model.log_likelihood(digits[:1], k=5, rng=0)
    for single in (digits[0], digits[0].reshape(8, 8)):
        np.testing.assert_allclose(model.log_likelihood(single, k=5, rng=0), first, rtol=1e-6)


# ----- bad input ------------------------------------------------------------------------------------------------------
def _bad(change):
    x = load_digits("train")[0][:3].copy()
    return change(x)


BAD_IMAGES = {
    "negative": (lambda x: np.where(x == 0, -1.0, x), r"grey levels in \[0, 16\]"),
    "above 16": (lambda x: x + 1, r"grey levels in \[0, 16\]"),
    "fractional": (lambda x: x + 0.5 * (x < 16), "whole grey levels"),
    "nan": (lambda x: np.where(x == 0, np.nan, x), "NaN or inf"),
    "inf": (lambda x: np.where(x == 0, np.inf, x), "NaN or inf"),
    "63 pixels": (lambda x: x[:, :63], "8x8 images"),
    "9x9": (lambda x: np.zeros((3, 9, 9)), "8x8 images"),
    "two channels": (lambda x: np.zeros((3, 2, 8, 8)), "8x8 images"),
    "no images": (lambda x: x[:0], "no images"),
}


@pytest.mark.parametrize("case", BAD_IMAGES)
def test_bad_images_raise_value_errors_naming_the_argument(case):
    """Bad pixel values or shapes are refused by every entry point with a ValueError naming x (x_a / x_b for
    interpolate)."""
    change, reason = BAD_IMAGES[case]
    x, good = _bad(change), load_digits("train")[0][:1]
    model = tiny()
    calls = [lambda: model.elbo(x), lambda: model.iwae_bound(x, 2), lambda: model.log_likelihood(x, k=2),
             lambda: model.negative_elbo(x, n_samples=1), lambda: model.reconstruct(x),
             lambda: check_images(x, "categorical")]
    for call in calls:
        with pytest.raises(ValueError, match=rf"^x\b.*{reason}"):
            call()
    with pytest.raises(ValueError, match=rf"^x_a\b.*{reason}"):
        model.interpolate(x, good)
    with pytest.raises(ValueError, match=rf"^x_b\b.*{reason}"):
        model.interpolate(good, x)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_continuous_likelihoods_accept_fractional_grey_levels(likelihood):
    """The Bernoulli and Gaussian likelihoods take fractional grey levels in [0, 16] (only the categorical
    one needs whole numbers)."""
    x = _bad(BAD_IMAGES["fractional"][0])
    assert np.all(np.isfinite(tiny(likelihood=likelihood).log_likelihood(x, k=2)))


def test_non_numeric_input_is_a_type_error_naming_the_argument():
    """Something that is not an array of numbers raises TypeError naming x."""
    with pytest.raises(TypeError, match="^x must be an array"):
        tiny().elbo({"not": "images"})


@pytest.mark.parametrize("call, name", [
    (lambda m, x: m.interpolate(x[0], x[1], steps=1), "steps"),
    (lambda m, x: m.interpolate(x[0], x[1], steps=2.5), "steps"),
    (lambda m, x: m.sample(0), "n"),
    (lambda m, x: m.sample(-3), "n"),
    (lambda m, x: m.sample(2.0), "n"),
    (lambda m, x: m.log_likelihood(x, k=0), "k"),
    (lambda m, x: m.log_likelihood(x, k=10**6), "k"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_bad_arguments_raise_value_errors_naming_them(kind, call, name, digits):
    """interpolate(steps < 2), sample(n < 1 or not an integer) and log_likelihood(k out of range) raise a
    ValueError naming the argument."""
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        call(tiny(kind), digits)


BAD_CONFIGS = [
    ({"likelihood": "poisson"}, "likelihood"), ({"architecture": "rnn"}, "architecture"),
    ({"objective": "kl"}, "objective"), ({"latent_dim": 0}, "latent_dim"), ({"latent_dim": 2.5}, "latent_dim"),
    ({"iwae_k": 0}, "iwae_k"), ({"hidden": ()}, "hidden"), ({"hidden": (16, 0)}, "hidden"),
    ({"dropout": 1.0}, "dropout"), ({"dropout": -0.1}, "dropout"), ({"input_dropout": 1.0}, "input_dropout"),
    ({"kl_warmup_epochs": -1.0}, "kl_warmup_epochs"), ({"kl_warmup_epochs": math.nan}, "kl_warmup_epochs"),
    ({"gaussian_sigma": 0.0}, "gaussian_sigma"), ({"log_var_min": 4.0}, "log_var_min"),
]


@pytest.mark.parametrize("values, name", BAD_CONFIGS)
@pytest.mark.parametrize("cls", [VAEConfig, HierarchicalVAEConfig])
def test_bad_configurations_raise_value_errors_naming_the_field(cls, values, name):
    """A configuration that cannot build a model is refused when it is made, naming the field."""
    with pytest.raises(ValueError, match=rf"^{name} must"):
        cls(**values)


def test_bad_top_latent_dim_and_activation_are_refused():
    """top_latent_dim = 0 is refused by the config, an unknown activation when the model is built, and an
    HierarchicalVAE needs a HierarchicalVAEConfig."""
    with pytest.raises(ValueError, match="^top_latent_dim must"):
        HierarchicalVAEConfig(top_latent_dim=0)
    with pytest.raises(ValueError, match="^activation must"):
        VAE(VAEConfig(hidden=(4,), activation="swish2"))
    with pytest.raises(TypeError, match="HierarchicalVAEConfig"):
        HierarchicalVAE(VAEConfig(hidden=(4,)))


@pytest.mark.parametrize("kind", KINDS)
def test_config_json_round_trip_rebuilds_the_same_model(kind):
    """config_from_dict(json.loads(config.to_json())) is the same config, and build_model of it the same class
    with the same weights."""
    model = tiny(kind, dropout=0.2, likelihood="bernoulli")
    values = json.loads(model.config.to_json())
    assert values["kind"] == kind
    assert config_from_dict(values) == model.config
    rebuilt = build_model(values)
    assert type(rebuilt) is type(model)
    for (name, a), (_, b) in zip(model.state_dict().items(), rebuilt.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_config_from_dict_refuses_unknown_fields_and_kinds():
    """An unknown field or model kind in a config dict is a ValueError naming it."""
    with pytest.raises(ValueError, match="unknown VAEConfig fields: \\['latent_size'\\]"):
        config_from_dict({"kind": "vae", "latent_size": 3})
    with pytest.raises(ValueError, match="unknown HierarchicalVAEConfig fields"):
        config_from_dict({"kind": "hvae", "colour": "red"})
    with pytest.raises(ValueError, match="unknown model kind 'gan'"):
        config_from_dict({"kind": "gan"})
    with pytest.raises(ValueError, match="^latent_dim must"):
        config_from_dict({"kind": "vae", "latent_dim": 0})


@pytest.mark.parametrize("kind", KINDS)
def test_the_decoder_and_the_bounds_take_host_arrays_and_refuse_bad_codes(kind, digits):
    """decode, posterior_code and log_weights take NumPy arrays as well as Tensors; a code of the wrong width,
    a non-finite code, a bad k or a bad rng is refused naming the argument."""
    model = tiny(kind)
    code = model.posterior_code(digits)
    np.testing.assert_array_equal(model.decode(code.numpy()).numpy(), model.decode(code).numpy())
    assert model.log_weights(digits, 3, 0).shape == (3, len(digits))
    with pytest.raises(ValueError, match=rf"^z must be shaped \(\.\.\., {model.code_dim}\)"):
        model.decode(np.zeros((2, model.code_dim + 1)))
    with pytest.raises(ValueError, match="^z contains NaN"):
        model.decode(np.full((2, model.code_dim), np.nan))
    with pytest.raises((TypeError, ValueError), match="^k must be an integer"):
        model.log_weights(digits, 2.5, 0)
    with pytest.raises(TypeError, match="^rng"):
        model.prior_sample(2, "seed")


def test_a_model_needs_a_config_object_and_build_model_a_config():
    """A config of the wrong type is a TypeError naming config (None: the defaults, for the classes only)."""
    with pytest.raises(TypeError, match="^config must be a VAEConfig"):
        VAE({"latent_dim": 2})
    with pytest.raises(TypeError, match="^config must be"):
        build_model(None)
    with pytest.raises(ValueError, match="^kind must be one of \\('vae',\\)"):
        VAEConfig(kind="hvae")
    with pytest.raises(TypeError, match="^values must be a dict"):
        config_from_dict([("kind", "vae")])
