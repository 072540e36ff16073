"""Evaluating p(x): the Gaussian, in one dimension and in d dimensions (lecture section 1).

    N(x | mu, sigma) = 1 / sqrt(2 pi sigma^2) * exp(-(x - mu)^2 / (2 sigma^2))

    N(x | mu, Sigma) = (2 pi)^(-d/2) |Sigma|^(-1/2) exp(-1/2 (x - mu)^T Sigma^-1 (x - mu)),
    computed with the Cholesky factor Sigma = L L^T:  z = L^-1 (x - mu),
    (x - mu)^T Sigma^-1 (x - mu) = |z|^2  and  log |Sigma| = 2 sum_i log L_ii.

Everything is float64 and in log space first (``pdf = exp(log_prob)``). The 1-D normal also has its
CDF, Phi(x) = erfc(-x / sqrt 2) / 2, and inverse CDF, Phi^-1(u), written out here, because inverse
transform sampling (section 2) needs them:

- ``erfc`` is W. J. Cody's rational Chebyshev approximation (Math. Comp. 23, 1969; the SPECFUN routine
  CALERF), relative accuracy ~1e-16 down to the underflow of erfc near x = 26.5;
- ``ndtri`` (Phi^-1) is M. J. Wichura's algorithm AS 241, PPND16 (Appl. Statist. 37, 1988), relative
  accuracy ~1e-16 for every u in (0, 1), far tails included.
"""
from __future__ import annotations

import math

import numpy as np

from scratchgen._checks import check_positive, check_real, check_real_array
from scratchgen.sampling.rng import RNGLike, as_generator, check_size

LOG_2PI = math.log(2.0 * math.pi)
SQRT_HALF = math.sqrt(0.5)


def _as_finite_or_inf(x, name: str) -> np.ndarray:
    """x as float64; infinities are fine (the densities have limits there), NaN is an error."""
    x = check_real_array(x, name)
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN at index {np.argwhere(np.isnan(x))[0].tolist()}")
    return x


def _poly(coefficients: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    """c[0] + c[1] t + ... + c[n] t^n by Horner's rule."""
    result = np.full_like(t, coefficients[-1])
    for c in coefficients[-2::-1]:
        result = result * t + c
    return result


# ---------------------------------------------------------------------------------------------------
# erfc (Cody 1969): three ranges, each a ratio of polynomials fitted in the Chebyshev (minimax) sense.
# ---------------------------------------------------------------------------------------------------
_ERF_NUM = (3.20937758913846947e03, 3.77485237685302021e02, 1.13864154151050156e02,
            3.16112374387056560e00, 1.85777706184603153e-1)                        # erf on |x| <= 0.46875
_ERF_DEN = (2.84423683343917062e03, 1.28261652607737228e03, 2.44024637934444173e02,
            2.36012909523441209e01, 1.0)
_ERFC_MID_NUM = (1.23033935479799725e03, 2.05107837782607147e03, 1.71204761263407058e03,
                 8.81952221241769090e02, 2.98635138197400131e02, 6.61191906371416295e01,
                 8.88314979438837594e00, 5.64188496988670089e-1, 2.15311535474403846e-8)  # 0.46875 < x <= 4
_ERFC_MID_DEN = (1.23033935480374942e03, 3.43936767414372164e03, 4.36261909014324716e03,
                 3.29079923573345963e03, 1.62138957456669019e03, 5.37181101862009858e02,
                 1.17693950891312499e02, 1.57449261107098347e01, 1.0)
_ERFC_TAIL_NUM = (6.58749161529837803e-4, 1.60837851487422766e-2, 1.25781726111229246e-1,
                  3.60344899949804439e-1, 3.05326634961232344e-1, 1.63153871373020978e-2)  # x > 4, in 1/x^2
_ERFC_TAIL_DEN = (2.33520497626869185e-3, 6.05183413124413191e-2, 5.27905102951428412e-1,
                  1.87295284992346047e00, 2.56852019228982242e00, 1.0)
_INV_SQRT_PI = 5.6418958354775628695e-1


def _erfcx_positive(y: np.ndarray) -> np.ndarray:
    """The scaled complement exp(y^2) erfc(y) for y > 0.46875 (no underflow: it decays like 1/(y sqrt pi))."""
    out = np.empty_like(y)
    mid = y <= 4.0
    ym = y[mid]
    out[mid] = _poly(_ERFC_MID_NUM, ym) / _poly(_ERFC_MID_DEN, ym)
    yt = y[~mid]
    z = 1.0 / (yt * yt)
    out[~mid] = (_INV_SQRT_PI - z * _poly(_ERFC_TAIL_NUM, z) / _poly(_ERFC_TAIL_DEN, z)) / yt
    return out


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y^2) without the rounding error of squaring y: split y = y16 + r with y16 a multiple of 1/16,
    so y^2 = y16^2 + (y - y16)(y + y16) and both exponents are computed exactly enough (Cody's trick)."""
    y = np.minimum(y, 40.0)  # exp(-1600) is 0 anyway; keeps inf - inf out of the split
    y16 = np.trunc(y * 16.0) / 16.0
    return np.exp(-y16 * y16) * np.exp(-(y - y16) * (y + y16))


def erfc(x) -> np.ndarray:
    """Complementary error function erfc(x) = 2/sqrt(pi) int_x^inf exp(-t^2) dt (Cody's CALERF)."""
    x = _as_finite_or_inf(x, "x")
    y = np.abs(x)
    out = np.empty_like(x)
    small = y <= 0.46875
    xs = x[small]
    t = xs * xs
    out[small] = 1.0 - xs * _poly(_ERF_NUM, t) / _poly(_ERF_DEN, t)
    big = ~small
    yb = y[big]
    tail = _exp_minus_square(yb) * _erfcx_positive(yb)      # erfc(|x|)
    out[big] = np.where(x[big] < 0.0, 2.0 - tail, tail)    # erfc(-y) = 2 - erfc(y)
    return out


def log_ndtr(x) -> np.ndarray:
    """log Phi(x), accurate in the far left tail where Phi(x) itself underflows (x < -38).

    For x < -1: Phi(x) = erfc(y) / 2 with y = -x / sqrt 2 = exp(-y^2) erfcx(y) / 2, so
    log Phi(x) = -y^2 + log(erfcx(y) / 2); elsewhere log1p(-Phi(-x)) keeps the digits near Phi = 1.
    """
    x = _as_finite_or_inf(x, "x")
    out = np.empty_like(x)
    left = x < -1.0
    y = -x[left] * SQRT_HALF
    with np.errstate(invalid="ignore"):  # x = -inf: -inf + log(0 ...) handled below
        out[left] = -y * y + np.log(0.5 * _erfcx_positive(y))
    out[left & np.isneginf(x)] = -np.inf
    out[~left] = np.log1p(-0.5 * erfc(x[~left] * SQRT_HALF))
    return out


def ndtr(x) -> np.ndarray:
    """Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2."""
    return 0.5 * erfc(-_as_finite_or_inf(x, "x") * SQRT_HALF)


# ---------------------------------------------------------------------------------------------------
# ndtri = Phi^-1 (Wichura's AS 241, PPND16): one rational function in (u - 1/2)^2 for the centre,
# two in r = sqrt(-log(min(u, 1 - u))) for the tails, each accurate to about 1e-16 relative.
# ---------------------------------------------------------------------------------------------------
_PPND_CENTRE_NUM = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
                    1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
                    3.3430575583588128105e4, 2.5090809287301226727e3)
_PPND_CENTRE_DEN = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
                    2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
                    5.2264952788528545610e3)
_PPND_NEAR_NUM = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
                  3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
                  2.27238449892691845833e-2, 7.74545014278341407640e-4)
_PPND_NEAR_DEN = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
                  1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                  1.05075007164441684324e-9)
_PPND_FAR_NUM = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
                 2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                 2.71155556874348757815e-5, 2.01033439929228813265e-7)
_PPND_FAR_DEN = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                 7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                 2.04426310338993978564e-15)


def ndtri(u) -> np.ndarray:
    """Inverse standard normal CDF x = Phi^-1(u) for u in [0, 1] (Phi^-1(0) = -inf, Phi^-1(1) = inf)."""
    u = check_real_array(u, "u")
    if not np.all((u >= 0.0) & (u <= 1.0)):  # also catches NaN
        bad = u[~((u >= 0.0) & (u <= 1.0))].ravel()[0]
        raise ValueError(f"u: probabilities must lie in [0, 1], got {float(bad)!r}")
    q = u - 0.5
    out = np.empty_like(u)
    centre = np.abs(q) <= 0.425
    qc = q[centre]
    t = 0.180625 - qc * qc
    out[centre] = qc * _poly(_PPND_CENTRE_NUM, t) / _poly(_PPND_CENTRE_DEN, t)
    tails = ~centre
    p_tail = np.minimum(u[tails], 1.0 - u[tails])           # the smaller tail probability
    with np.errstate(divide="ignore"):
        r = np.sqrt(-np.log(p_tail))                        # p_tail = 0 gives r = inf -> x = inf
    near = r <= 5.0
    x_tail = np.empty_like(r)
    x_tail[near] = _poly(_PPND_NEAR_NUM, r[near] - 1.6) / _poly(_PPND_NEAR_DEN, r[near] - 1.6)
    rf = r[~near] - 5.0
    with np.errstate(invalid="ignore"):
        x_tail[~near] = _poly(_PPND_FAR_NUM, rf) / _poly(_PPND_FAR_DEN, rf)
    x_tail[np.isinf(r)] = np.inf
    out[tails] = np.where(q[tails] < 0.0, -x_tail, x_tail)
    return out


# ---------------------------------------------------------------------------------------------------
# The distributions.
# ---------------------------------------------------------------------------------------------------
class Normal:
    """The 1-D Gaussian N(mu, sigma^2): log_prob, pdf, cdf, log_cdf, ppf and sample.

    log N(x | mu, sigma) = -(x - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2.
    """

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu = check_real(mu, "mu")
        self.sigma = check_positive(sigma, "sigma")

    def __repr__(self) -> str:
        return f"Normal(mu={self.mu!r}, sigma={self.sigma!r})"

    def _standardise(self, x) -> np.ndarray:
        return (_as_finite_or_inf(x, "x") - self.mu) / self.sigma

    def log_prob(self, x) -> np.ndarray:
        z = self._standardise(x)
        return -0.5 * z * z - math.log(self.sigma) - 0.5 * LOG_2PI

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.log_prob(x))

    def cdf(self, x) -> np.ndarray:
        """F(x) = Phi((x - mu) / sigma)."""
        return ndtr(self._standardise(x))

    def log_cdf(self, x) -> np.ndarray:
        return log_ndtr(self._standardise(x))

    def ppf(self, u) -> np.ndarray:
        """F^-1(u) = mu + sigma Phi^-1(u), the inverse CDF that inverse transform sampling evaluates."""
        return self.mu + self.sigma * ndtri(u)

    def sample(self, size=(), rng: RNGLike = None) -> np.ndarray:
        """x = mu + sigma z with z ~ N(0, 1) (NumPy's ziggurat: faster than Phi^-1(u), same distribution)."""
        return self.mu + self.sigma * as_generator(rng).standard_normal(check_size(size))


class MultivariateNormal:
    """The d-dimensional Gaussian N(mu, Sigma), held through its Cholesky factor Sigma = L L^T.

    log N(x | mu, Sigma) = -|L^-1 (x - mu)|^2 / 2 - sum_i log L_ii - d log(2 pi) / 2
    (the middle term is log |Sigma| / 2, since log |Sigma| = 2 sum_i log L_ii).
    Sampling is the reverse map: x = mu + L z with z ~ N(0, I).
    """

    def __init__(self, mean, cov):
        mean = check_real_array(mean, "mean")
        cov = check_real_array(cov, "cov")
        if mean.ndim != 1 or mean.size == 0:
            raise ValueError(f"mean: expected a non-empty 1-D array of shape (d,), got shape {mean.shape}")
        d = mean.shape[0]
        if cov.shape != (d, d):
            raise ValueError(f"cov: expected shape (d, d) = ({d}, {d}) to match mean, got {cov.shape}")
        for name, value in (("mean", mean), ("cov", cov)):
            if not np.isfinite(value).all():
                raise ValueError(f"{name} must be finite (found NaN or inf)")
        asymmetry = np.max(np.abs(cov - cov.T))
        if asymmetry > 1e-10 * max(np.max(np.abs(cov)), 1e-300):
            raise ValueError(f"cov: expected a symmetric matrix, max |cov - cov.T| = {asymmetry:.3g}")
        try:
            self.cholesky = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov is not positive definite (Cholesky failed); "
                             "check it, or add a small multiple of the identity") from None
        self.mean, self.cov, self.dim = mean, cov, d
        self.log_det_cov = 2.0 * np.sum(np.log(np.diag(self.cholesky)))
        # L^-1 once, so log_prob is one matrix product (L is triangular and well conditioned when cov is).
        self._cholesky_inv = np.linalg.solve(self.cholesky, np.eye(d))

    def __repr__(self) -> str:
        return f"MultivariateNormal(dim={self.dim})"

    def mahalanobis_sq(self, x) -> np.ndarray:
        """(x - mu)^T Sigma^-1 (x - mu) = |L^-1 (x - mu)|^2 for x of shape (..., d)."""
        x = check_real_array(x, "x")
        if x.shape[-1:] != (self.dim,):
            raise ValueError(f"x: expected shape (..., {self.dim}), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("x must be finite (found NaN or inf)")
        z = (x - self.mean) @ self._cholesky_inv.T
        return np.sum(z * z, axis=-1)

    def log_prob(self, x) -> np.ndarray:
        return -0.5 * self.mahalanobis_sq(x) - 0.5 * self.log_det_cov - 0.5 * self.dim * LOG_2PI

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.log_prob(x))

    def sample(self, size=(), rng: RNGLike = None) -> np.ndarray:
        """x = mu + L z, z ~ N(0, I); returns shape (*size, d)."""
        z = as_generator(rng).standard_normal(check_size(size) + (self.dim,))
        return self.mean + z @ self.cholesky.T
