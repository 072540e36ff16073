"""Contracts of ``scratchgen.models.inverse`` that mutation testing found unchecked.

The operators: which inputs and masks they refuse (wrong shapes, empty batches), the mask's stored shape and
per-image masks, dtype and device of the Tensor path, the bilinear baseline's exact weights with clamped
edges, the Gaussian kernel's formula for sigma != 1 and the blur's defaults; PSNR on a nonzero truth; the
RePaint schedule's exact walks (a jump back up at t = 1, resample > 2).

The samplers, on an exact Gaussian denoiser (x_0 ~ N(mu, sd^2 I), the label shifting mu) with the DDPM's
interface: DPS and RePaint reproduce, draw for draw, a NumPy transcription of their docstrings (DPS's
gradient written out analytically, so it also checks the autograd path), with clipping, labels, guidance,
jumps and the documented defaults; DPS's guard for a zero residual, its operator without ``observed_shape``,
single observations, the frozen weights and progress. ``restore``: its defaults, that it is DPS (or RePaint)
on the operator's observation, pastes the known pixels back for inpainting, and what it returns.
"""
from types import SimpleNamespace

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import Tensor
from scratchgen.models.diffusion import NoiseSchedule, ddim_timesteps
from scratchgen.models.inverse import (
    OPERATORS,
    AveragePool,
    GaussianBlur,
    PixelMask,
    dps,
    gaussian_kernel,
    psnr,
    repaint,
    repaint_schedule,
    restore,
)

OPERATOR_CASES = [PixelMask.lower_half(), AveragePool(), GaussianBlur(1.0, 5)]


# ----- a model with the DDPM's interface and an exact denoiser -----------------------------------------------
class GaussianPrior:
    """x_0 ~ N(mu + shift * label, sd^2 I) on ``sample_shape``: eps_theta is the exact E[eps | x_t] plus
    ``coupling`` times the sample's mean of x_t (so that pixels see each other, as in a network), as engine ops
    times a weight ``scale`` (1.0), so DPS differentiates through it. Records what each call was given."""

    def __init__(self, sample_shape=(1, 8, 8), schedule=None, mu=0.2, sd=1.0, shift=0.3, clip=None,
                 variance="beta", coupling=0.0):
        self.schedule = schedule if schedule is not None else NoiseSchedule(np.linspace(0.01, 0.3, 20))
        self.sample_shape, self.clip = tuple(sample_shape), clip
        self.mu, self.sd, self.shift, self.coupling = mu, sd, shift, coupling
        self.config = SimpleNamespace(variance=variance, is_image=True)
        self.scale = Tensor(np.ones(1), requires_grad=True)
        self.eps_calls, self.noise_calls = [], []

    def parameters(self):
        return [self.scale]

    def constant(self, values):
        return Tensor(np.asarray(values, dtype=np.float64))

    def mean(self, labels, n):
        m = np.full(n, self.mu) if labels is None else self.mu + self.shift * np.broadcast_to(labels, (n,))
        return m.reshape(n, *[1] * len(self.sample_shape))

    def coefficients(self, t, n):
        """sqrt(a) and sqrt(1 - a) / v: the exact eps is (x_t - sqrt(a) m) sqrt(1 - a) / v."""
        a = self.schedule.alpha_bars[np.broadcast_to(t, (n,))].reshape(n, *[1] * len(self.sample_shape))
        v = a * self.sd**2 + 1 - a
        return np.sqrt(a), np.sqrt(1 - a) / v

    def sample_mean(self, x):
        return x.reshape(x.shape[0], -1).mean(axis=1).reshape(x.shape[0], *[1] * len(self.sample_shape))

    def eps_theta(self, xt, t, labels=None):
        self.eps_calls.append((labels, self.scale.requires_grad))
        n = xt.shape[0]
        root_a, k = self.coefficients(t, n)
        eps = (xt - self.constant(root_a * self.mean(labels, n))) * self.constant(k)
        return (eps + self.sample_mean(xt) * self.coupling) * self.scale

    def eps(self, x, t, labels=None):
        root_a, k = self.coefficients(t, len(x))
        return (x - root_a * self.mean(labels, len(x))) * k + self.coupling * self.sample_mean(x)

    def x0_vjp(self, g, t):
        """g^T d x0_hat / d x_t (a symmetric Jacobian): x0_hat = (x_t - sqrt(1 - a) eps) / sqrt(a)."""
        root_a, k = self.coefficients(t, len(g))
        root_1ma = np.sqrt(1 - root_a**2)
        return (g * (1 - root_1ma * k) - root_1ma * self.coupling * self.sample_mean(g)) / root_a

    def predict_noise(self, x, t, labels=None, guidance=1.0):
        self.noise_calls.append((labels, guidance))
        unconditional = self.eps(x, t)
        if labels is None:
            return unconditional
        return unconditional + guidance * (self.eps(x, t, labels) - unconditional)

    def to_model_space(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x.reshape(len(x), *self.sample_shape) / 8 - 1

    def to_data_space(self, y):
        return np.clip(np.round((np.asarray(y) + 1) * 8), 0, 16).reshape(len(y), 8, 8)


class FirstCoordinate:
    """A = [1, 0] on 2-D points."""

    observed_shape = (1,)

    def __call__(self, x):
        return x[:, :1]

    def adjoint(self, y):
        return np.concatenate([y, np.zeros_like(y)], axis=1)


def reference_dps(model, A, y, seed, steps, step_size, labels=None):
    """DPS as its docstring writes it, in NumPy, the gradient of ||y - A x0_hat(x_t)|| written out:
    -(d x0_hat / d x_t)^T A^T r / ||r|| with r = y - A x0_hat (x0_hat is affine in x_t for this prior)."""
    rng, a, n = np.random.default_rng(seed), model.schedule.alpha_bars, len(y)
    taus = ddim_timesteps(model.schedule.T, steps)
    shape = (n, *model.sample_shape)
    x = rng.standard_normal(shape)
    for t, s in zip(taus[::-1], [*taus[::-1][1:], 0]):
        eps = model.eps(x, np.full(n, t), labels)
        x0 = (x - np.sqrt(1 - a[t]) * eps) / np.sqrt(a[t])
        r = y - A(x0)
        norm = np.sqrt((r * r).reshape(n, -1).sum(axis=1) + 1e-12).reshape(n, *[1] * (x.ndim - 1))
        grad = model.x0_vjp(-A.adjoint(r) / norm, t)
        if model.clip is not None:
            x0 = np.clip(x0, *model.clip)
            eps = (x - np.sqrt(a[t]) * x0) / np.sqrt(1 - a[t])
        if s == 0:
            x = x0
        else:
            sigma = np.sqrt((1 - a[s]) / (1 - a[t]) * (1 - a[t] / a[s]))
            x = np.sqrt(a[s]) * x0 + np.sqrt(max(1 - a[s] - sigma**2, 0.0)) * eps + sigma * rng.standard_normal(shape)
            x = x - step_size * grad
    return x


def reference_repaint(model, observed, mask, seed, resample, jump, labels=None, guidance=1.0):
    """RePaint as its docstring writes it, in NumPy, drawing in the same order."""
    rng, s = np.random.default_rng(seed), model.schedule
    a, n = s.alpha_bars, len(observed)
    sigma = np.sqrt(s.sigma2(model.config.variance))
    x = rng.standard_normal(observed.shape)
    for t, target in repaint_schedule(s.T, resample, jump):
        if target > t:
            ratio = a[target] / a[t]
            x = np.sqrt(ratio) * x + np.sqrt(1 - ratio) * rng.standard_normal(x.shape)
            continue
        tt = np.full(n, t)
        unknown = s.p_mean(x, tt, model.predict_noise(x, tt, labels, guidance), model.clip)
        if t > 1:
            unknown = unknown + sigma[t] * rng.standard_normal(x.shape)
            known = np.sqrt(a[t - 1]) * observed + np.sqrt(1 - a[t - 1]) * rng.standard_normal(x.shape)
        else:
            known = observed
        x = mask * known + (1 - mask) * unknown
    return x


def digits(n=2, seed=0):
    return np.random.default_rng(seed).integers(0, 17, size=(n, 8, 8)).astype(np.float64)


class Counter:
    def __init__(self):
        self.calls = []

    def __call__(self, k):
        self.calls.append(k)


# ----- the operators ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: A.name)
def test_the_operators_refuse_images_of_another_shape_and_empty_batches(A):
    for shape in [(2, 1, 8, 7), (2, 2, 8, 8), (3, 64), (1, 8, 8)]:
        with pytest.raises(ValueError, match="x must be images shaped"):
            A(np.zeros(shape))
        with pytest.raises(ValueError, match="x must be images shaped"):
            A(Tensor(np.zeros(shape)))
    with pytest.raises(ValueError, match="x must be images shaped"):
        A(Tensor(np.zeros((0, 1, 8, 8))))
    with pytest.raises(ValueError, match="must be images shaped"):
        A.adjoint(Tensor(np.zeros((0, *A.observed_shape))))
    with pytest.raises(ValueError, match="must be images shaped"):
        A.adjoint(np.zeros((2, 1, 5, 5)))


def test_a_mask_of_another_shape_is_refused_even_when_it_holds_a_multiple_of_64_values():
    for shape in [(1, 2, 8, 8), (2, 1, 4, 16), (64,), (2, 8, 8)]:
        with pytest.raises(ValueError, match=r"mask must have shape \(8, 8\) or \(N, 1, 8, 8\)"):
            PixelMask(np.ones(shape))


def test_the_mask_is_stored_as_a_batch_of_images_and_per_image_masks_apply_per_image():
    assert PixelMask(np.ones((8, 8))).mask.shape == (1, 1, 8, 8)
    assert PixelMask.lower_half().mask.shape == (1, 1, 8, 8)
    masks = np.random.default_rng(0).integers(0, 2, size=(3, 1, 8, 8)).astype(float)
    A = PixelMask(masks)
    assert A.mask.shape == (3, 1, 8, 8)
    x = np.random.default_rng(1).standard_normal((3, 1, 8, 8))
    np.testing.assert_array_equal(A(x), x * masks)
    np.testing.assert_array_equal(A(Tensor(x)).numpy(), x * masks)
    with pytest.raises(ValueError, match="as many images as the mask"):
        A(x[:2])


@pytest.mark.parametrize("A", OPERATOR_CASES, ids=lambda A: A.name)
def test_a_float32_tensor_stays_float32_through_the_operator_and_its_adjoint(A):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, *A.observed_shape))
    out, back = A(Tensor(x, dtype=np.float32)), A.adjoint(Tensor(y, dtype=np.float32))
    assert out.dtype == np.float32 and back.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), A(x), atol=1e-5)
    np.testing.assert_allclose(back.numpy(), A.adjoint(y), atol=1e-5)


def _on_array_api_strict(A):
    pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((2, *A.observed_shape))
    for f, v in [(A.forward, x), (A.adjoint, y)]:
        out = f(Tensor(v, dtype=np.float64, device="array_api_strict"))
        assert out.device == "array_api_strict"
        np.testing.assert_allclose(np.asarray(out.to("cpu").numpy()), f(v), atol=1e-12)


@pytest.mark.parametrize("A", [PixelMask.lower_half(), AveragePool()], ids=lambda A: A.name)
def test_the_operators_work_on_another_device(A):
    """A DDPM moved to a device hands DPS Tensors there: the operator must keep them there."""
    _on_array_api_strict(A)


def test_the_blur_works_on_another_device():
    _on_array_api_strict(GaussianBlur(1.0, 5))


def test_the_bilinear_baseline_is_the_separable_half_pixel_interpolation_with_clamped_edges():
    # high-res pixel i has its centre at (i + 0.5) / 2 - 0.5 in low-res coordinates, clamped to [0, 3]
    W = np.array([[1, 0, 0, 0], [.75, .25, 0, 0], [.25, .75, 0, 0], [0, .75, .25, 0],
                  [0, .25, .75, 0], [0, 0, .75, .25], [0, 0, .25, .75], [0, 0, 0, 1]])
    y = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    expected = np.einsum("ia,nkab,jb->nkij", W, y, W)
    A = AveragePool()
    up = A.upsample_bilinear(y)
    assert up.shape == (2, 1, 8, 8)
    np.testing.assert_allclose(up, expected, atol=1e-12)
    np.testing.assert_array_equal(up[:, :, [0, 0, 7, 7], [0, 7, 0, 7]], y[:, :, [0, 0, 3, 3], [0, 3, 0, 3]])


def test_the_upsampling_baselines_take_tensors_and_return_arrays():
    A = AveragePool()
    y = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    for f in (A.upsample_bilinear, A.upsample_nearest):
        out = f(Tensor(y))
        assert isinstance(out, np.ndarray) and out.shape == (2, 1, 8, 8)
        np.testing.assert_array_equal(out, f(y))
        single = f(Tensor(y, dtype=np.float32))  # float64 out, as from an array: the baselines are NumPy
        assert isinstance(single, np.ndarray) and single.dtype == np.float64
        np.testing.assert_array_equal(single, f(y.astype(np.float32).astype(np.float64)))
    np.testing.assert_array_equal(A.upsample_nearest(y)[:, :, 1::2, ::2], y)


@pytest.mark.parametrize(("sigma", "size"), [(1.5, 5), (0.6, 3), (2.0, 7)])
def test_the_gaussian_kernel_is_its_formula(sigma, size):
    c = size // 2
    p, q = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    k = np.exp(-((p - c) ** 2 + (q - c) ** 2) / (2 * sigma**2))
    np.testing.assert_allclose(gaussian_kernel(sigma, size), k / k.sum(), rtol=1e-12)
    assert gaussian_kernel(sigma, size)[c, c + 1] / gaussian_kernel(sigma, size)[c, c] == pytest.approx(
        np.exp(-1 / (2 * sigma**2)))


def test_the_blur_defaults_to_sigma_one_on_five_by_five():
    A = GaussianBlur()
    assert (A.sigma, A.size) == (1.0, 5)
    np.testing.assert_array_equal(A.kernel, gaussian_kernel(1.0, 5))
    assert isinstance(OPERATORS["deblur"](), GaussianBlur) and OPERATORS["deblur"]().sigma == 1.0


def test_psnr_is_of_the_difference_whatever_the_truth():
    truth = np.random.default_rng(0).uniform(0, 16, size=(2, 8, 8))
    assert psnr(truth + 1.6, truth) == pytest.approx(20.0)
    assert psnr(truth - 0.16, truth) == pytest.approx(40.0)
    assert psnr(truth + 1.0, truth, peak=1.0) == pytest.approx(0.0, abs=1e-12)


# ----- the RePaint schedule -----------------------------------------------------------------------------------
def test_the_repaint_schedule_jumps_back_from_t_one_with_jumps_of_one():
    assert repaint_schedule(3, resample=2, jump=1) == [(3, 2), (2, 3), (3, 2), (2, 1), (1, 2), (2, 1), (1, 0)]


def test_the_repaint_schedule_jumps_resample_minus_one_times_at_each_point():
    assert repaint_schedule(2, resample=3, jump=1) == [(2, 1), (1, 2), (2, 1), (1, 2), (2, 1), (1, 0)]
    moves = repaint_schedule(12, resample=4, jump=3)
    ups = [m for m in moves if m[1] > m[0]]
    assert ups == [(9, 12)] * 3 + [(6, 9)] * 3 + [(3, 6)] * 3
    assert len(moves) - len(ups) == 12 + 9 * 3


# ----- RePaint ------------------------------------------------------------------------------------------------
def _inpainting_problem(n=2, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(-1, 1, size=(n, 1, 8, 8))
    mask = PixelMask.lower_half().mask
    return truth * mask, mask


@pytest.mark.parametrize(("resample", "jump", "clip", "variance"),
                         [(2, 2, (-0.5, 0.5), "beta"), (3, 1, None, "beta"), (2, 3, (-1.0, 1.0), "posterior")])
def test_repaint_is_its_docstring_draw_for_draw(resample, jump, clip, variance):
    model = GaussianPrior(clip=clip, variance=variance, coupling=0.5)
    observed, mask = _inpainting_problem()
    got = repaint(model, observed, mask, np.random.default_rng(5), resample=resample, jump=jump, labels=[1, 4],
                  guidance=0.5)
    expected = reference_repaint(model, observed, mask, 5, resample, jump, labels=[1, 4], guidance=0.5)
    np.testing.assert_allclose(got, expected, atol=1e-10)
    assert all(labels == [1, 4] and guidance == 0.5 for labels, guidance in model.noise_calls)


def test_repaint_defaults_to_resampling_twice_with_jumps_of_one_and_guidance_one():
    model = GaussianPrior()
    observed, mask = _inpainting_problem(n=1)
    progress = Counter()
    got = repaint(model, observed, mask, np.random.default_rng(2), labels=3, progress=progress)
    calls = list(model.noise_calls)
    np.testing.assert_allclose(got, reference_repaint(model, observed, mask, 2, 2, 1, labels=3, guidance=1.0),
                               atol=1e-10)
    downs = [m for m in repaint_schedule(20, 2, 1) if m[1] < m[0]]
    assert progress.calls == [1] * len(downs) == [1] * len(calls)
    assert {guidance for _, guidance in calls} == {1.0}


def test_repaint_refuses_observations_that_are_not_a_batch():
    model = GaussianPrior()
    with pytest.raises(ValueError, match="observed must be model-space images"):
        repaint(model, np.float64(0.5), np.ones((8, 8)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="observed must be model-space images"):
        repaint(model, np.zeros((2, 64)), np.ones((8, 8)), np.random.default_rng(0))


# ----- DPS ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("task", "clip", "steps"), [("superres", None, 5), ("deblur", (-1.0, 1.0), 4),
                                                     ("inpaint", (-0.5, 0.5), 20)])
def test_dps_is_its_docstring_draw_for_draw(task, clip, steps):
    model = GaussianPrior(clip=clip, coupling=0.4)
    A = OPERATORS[task]()
    y = A(np.random.default_rng(1).uniform(-1, 1, size=(2, 1, 8, 8)))
    got = dps(model, A, y, np.random.default_rng(4), steps=steps, step_size=0.7, labels=[2, 5])
    np.testing.assert_allclose(got, reference_dps(model, A, y, 4, steps, 0.7, labels=[2, 5]), atol=1e-9)
    assert len(model.eps_calls) == steps and all(labels == [2, 5] for labels, _ in model.eps_calls)


def test_dps_with_one_step_returns_tweedies_estimate_at_t():
    model = GaussianPrior(sample_shape=(2,))
    y = np.array([[1.5], [-0.5], [0.0]])
    x_T = np.random.default_rng(3).standard_normal((3, 2))
    T, a = model.schedule.T, model.schedule.alpha_bars[-1]
    tweedie = (x_T - np.sqrt(1 - a) * model.eps(x_T, np.full(3, T))) / np.sqrt(a)
    np.testing.assert_allclose(dps(model, FirstCoordinate(), y, np.random.default_rng(3), steps=1), tweedie,
                               atol=1e-12)


def test_dps_defaults_to_250_steps_of_size_one():
    model = GaussianPrior(sample_shape=(2,), schedule=NoiseSchedule.make("linear", 1000))
    y = np.array([[1.0]])
    progress = Counter()
    got = dps(model, FirstCoordinate(), y, np.random.default_rng(0), progress=progress)
    assert progress.calls == [1] * 250
    np.testing.assert_array_equal(got, dps(model, FirstCoordinate(), y, np.random.default_rng(0), steps=250,
                                           step_size=1.0))


def test_dps_with_a_zero_residual_is_plain_sampling():
    """The 1e-12 under the square root keeps the gradient of ||0|| at 0 (not NaN)."""
    model = GaussianPrior(sample_shape=(2,))

    def zero(x):
        return x[:, :1] * 0.0

    y = np.zeros((3, 1))
    guided = dps(model, zero, y, np.random.default_rng(1), steps=5, step_size=1.0)
    assert np.all(np.isfinite(guided))
    np.testing.assert_array_equal(guided, dps(model, zero, y, np.random.default_rng(1), steps=5, step_size=0.0))


def test_dps_takes_a_plain_function_as_the_operator_and_one_observation():
    model = GaussianPrior(sample_shape=(2,))
    A = FirstCoordinate()
    y = np.array([[0.8]])
    got = dps(model, lambda x: x[:, :1], y, np.random.default_rng(2), steps=3, step_size=0.5)
    np.testing.assert_allclose(got, reference_dps(model, A, y, 2, 3, 0.5), atol=1e-12)
    with pytest.raises(ValueError, match="observed must be the operator's observations"):
        dps(model, lambda x: x[:, 0], np.array([0.8, 0.1]), np.random.default_rng(2), steps=3)
    with pytest.raises(ValueError, match="observed must be the operator's observations"):
        dps(model, lambda x: x[:, 0], np.float64(0.8), np.random.default_rng(2), steps=3)
    with pytest.raises(ValueError, match="observed must be the operator's observations"):
        dps(model, A, np.array([[0.8, 0.1]]), np.random.default_rng(2), steps=3)


def test_dps_freezes_the_weights_while_it_runs_and_restores_them():
    model = GaussianPrior(sample_shape=(2,))
    other = Tensor(np.ones(1))  # a weight that was frozen already stays frozen
    model.parameters = lambda: [model.scale, other]
    progress = Counter()
    dps(model, FirstCoordinate(), np.array([[1.0], [0.0]]), np.random.default_rng(0), steps=4, progress=progress)
    assert [frozen for _, frozen in model.eps_calls] == [False] * 4
    assert model.scale.requires_grad is True and other.requires_grad is False
    assert progress.calls == [1] * 4
    (g,) = al.grad((model.scale * 2.0).sum(), model.scale)  # and the weight trains again
    assert g.numpy()[0] == 2.0


# ----- restore ------------------------------------------------------------------------------------------------
def _observation(model, task, truth):
    return OPERATORS[task]()(model.to_model_space(truth))


def test_restore_defaults_to_dps_with_seed_0_250_steps_of_size_one():
    model = GaussianPrior(schedule=NoiseSchedule.make("linear", 300))
    truth = digits(1)
    progress = Counter()
    out = restore(model, "superres", truth, progress=progress)
    assert progress.calls == [1] * 250
    expected = dps(model, AveragePool(), _observation(model, "superres", truth), np.random.default_rng(0),
                   steps=250, step_size=1.0)
    np.testing.assert_array_equal(out["restored"], model.to_data_space(expected))


@pytest.mark.parametrize("task", ["superres", "deblur"])
def test_restore_is_dps_on_the_operators_observation(task):
    model = GaussianPrior()
    truth = digits(2)
    progress = Counter()
    out = restore(model, task, truth, rng=3, labels=[2, 7], steps=4, step_size=0.5, progress=progress)
    y = _observation(model, task, truth)
    expected = dps(model, OPERATORS[task](), y, np.random.default_rng(3), steps=4, step_size=0.5, labels=[2, 7])
    assert set(out) == {"observed", "restored", "truth"}
    np.testing.assert_array_equal(out["restored"], model.to_data_space(expected))
    np.testing.assert_array_equal(out["truth"], truth)
    assert out["truth"].dtype == np.float64
    np.testing.assert_allclose(out["observed"], (y[:, 0] + 1) * 8, atol=1e-12)
    assert progress.calls == [1] * 4
    np.testing.assert_array_equal(restore(model, task, truth, rng=3, labels=[2, 7], steps=4, step_size=0.5)
                                  ["restored"], out["restored"])


def test_restore_observes_super_resolution_as_block_means_on_the_data_scale():
    model = GaussianPrior()
    truth = digits(2)
    out = restore(model, "superres", truth, steps=2)
    assert out["observed"].shape == (2, 4, 4)
    np.testing.assert_allclose(out["observed"], truth.reshape(2, 4, 2, 4, 2).mean(axis=(2, 4)), atol=1e-12)


def test_restore_clips_the_steps_to_the_models_timesteps():
    model = GaussianPrior()
    progress = Counter()
    truth = digits(1)
    out = restore(model, "deblur", truth, rng=1, steps=10**6, progress=progress)
    assert progress.calls == [1] * model.schedule.T
    np.testing.assert_array_equal(out["restored"], restore(model, "deblur", truth, rng=1, steps=20)["restored"])


def test_restore_inpainting_with_dps_keeps_the_observed_pixels_and_returns_the_mask():
    model = GaussianPrior()
    truth = digits(3)
    out = restore(model, "inpaint", truth, rng=2, labels=1, steps=5, step_size=0.3)
    A = PixelMask.lower_half()
    expected = model.to_data_space(dps(model, A, _observation(model, "inpaint", truth), np.random.default_rng(2),
                                       steps=5, step_size=0.3, labels=1))
    assert set(out) == {"observed", "restored", "truth", "mask"}
    np.testing.assert_array_equal(out["restored"][:, :4], truth[:, :4])
    np.testing.assert_array_equal(out["restored"][:, 4:], expected[:, 4:])
    assert not np.array_equal(expected[:, :4], truth[:, :4])  # so the paste-back is what keeps them
    lower_half = np.broadcast_to(np.repeat([1.0, 0.0], 4)[:, None], (3, 8, 8))
    np.testing.assert_array_equal(out["mask"], lower_half)
    assert out["mask"].dtype == np.float64
    np.testing.assert_allclose(out["observed"], truth * lower_half, atol=1e-12)


def test_restore_with_repaint_is_repaint_on_the_lower_half():
    model = GaussianPrior()
    truth = digits(2)
    progress = Counter()
    out = restore(model, "inpaint", truth, rng=4, labels=[3, 8], method="repaint", resample=3, progress=progress)
    A = PixelMask.lower_half()
    expected = repaint(model, _observation(model, "inpaint", truth), A.mask, np.random.default_rng(4), resample=3,
                       labels=[3, 8])
    np.testing.assert_array_equal(out["restored"], model.to_data_space(expected))
    assert progress.calls == [1] * sum(1 for a, b in repaint_schedule(20, 3, 1) if b < a)
    assert set(out) == {"observed", "restored", "truth", "mask"}
    np.testing.assert_array_equal(out["restored"][:, :4], truth[:, :4])


def test_restore_with_repaint_defaults_to_resampling_twice():
    model = GaussianPrior()
    progress = Counter()
    restore(model, "inpaint", digits(1), method="repaint", progress=progress)
    assert len(progress.calls) == sum(1 for a, b in repaint_schedule(20, 2, 1) if b < a)


@pytest.mark.parametrize("task", ["superres", "deblur"])
def test_restore_refuses_repaint_for_other_tasks(task):
    with pytest.raises(ValueError, match="'repaint' for inpainting"):
        restore(GaussianPrior(), task, digits(1), method="repaint")


def test_restore_checks_progress_before_it_reads_the_digits():
    with pytest.raises(TypeError, match="progress"):
        restore(GaussianPrior(), "inpaint", np.full((1, 8, 8), 99.0), progress=5)
