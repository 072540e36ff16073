"""Inverse transform sampling for continuous distributions (lecture section 2).

    1. F(x) = int_{-inf}^x p(t) dt            (the CDF)
    2. u ~ U(0, 1)
    3. x = F^-1(u)                             (then x ~ p, because P(F^-1(u) <= x) = P(u <= F(x)) = F(x))

``inverse_transform`` is the analytic case (you know F^-1, e.g. ``Normal().ppf``).
``NumericalInverseCDF`` is the general case: you only know p(x), maybe unnormalised, maybe on an
unbounded support. It builds F by adaptive quadrature and inverts it by monotone interpolation; see its
docstring for the construction.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratchgen._checks import check_count, check_real, check_real_array
from scratchgen.sampling.rng import RNGLike, as_generator, check_size, uniform_open

_CHUNK = 1 << 13  # u values per block: the block's ~10 temporaries (64 KiB each) stay in the CPU cache


def inverse_transform(ppf: Callable[[np.ndarray], np.ndarray], size=(), rng: RNGLike = None) -> np.ndarray:
    """Draw x = F^-1(u) with u ~ U(0, 1) (open interval, so F^-1(0) = -inf never occurs).

    ``ppf`` is the inverse CDF F^-1, vectorised over a NumPy array of u values.
    """
    if not callable(ppf):
        raise TypeError(f"ppf: expected a callable inverse CDF, got {type(ppf).__name__}")
    u = uniform_open(as_generator(rng), check_size(size))
    x = np.asarray(ppf(u), dtype=np.float64)
    if x.shape != u.shape:
        raise ValueError(f"ppf must return one value per u: got shape {x.shape} for u of shape {u.shape}")
    if np.isnan(x).any():
        bad = u[np.isnan(x)].ravel()[0]
        raise ValueError(f"ppf returned NaN at u = {float(bad)!r}")
    return x


# 8-point Gauss-Legendre rule on [0, 1]: exact for polynomials of degree 15.
_GL_T, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_T, _GL_W = (_GL_T + 1.0) / 2.0, _GL_W / 2.0


class NumericalInverseCDF:
    """F and F^-1 of a distribution known only through its (possibly unnormalised) pdf.

    Construction (after Hormann & Leydold's Hermite inversion, with the quadrature refined alongside):

    1. The computational domain [lo, hi]: the support, with infinite ends cut where the tail is
       negligible (p(x) |x - c| below 1e-2 u_resolution of the largest such value; c is ``center``).
       The scan steps out from c and stops there, so a pdf written the textbook way that overflows to
       NaN far out (exp(-x) / (1 + exp(-x))^2 at x = -1e3) is fine; NaN, inf or a negative value where
       the mass is raises ``ValueError`` (pass ``support=`` if the formula holds only on part of the line).
    2. Split [lo, hi] into intervals [x_j, x_{j+1}] on a grid that is geometric around c (so any scale
       from 1e-9 to 1e9 is seen) and compute each mass m_j = int p over it with Gauss-Legendre.
    3. On each interval, F^-1 is the cubic Hermite interpolant in s = (u - F_j) / (F_{j+1} - F_j) with
       the exact slopes dx/du = 1 / p(x) at both ends, clipped to [0, 3] x the secant slope
       (Fritsch-Carlson: inside that box a cubic is monotone, so the inverse never runs backwards).
    4. Bisect every interval where (a) the sum of its four quarters' quadratures disagrees with its
       mass, or (b) the interpolant misses the u-error target |F(F^-1(u)) - u| <= u_resolution at
       u = F_j + (1/4, 1/2, 3/4) m_j (an interval whose mass is below the target cannot fail (b)).
    5. F_j = cumulative masses / total; a guide table (Chen & Asau) maps u to its interval in O(1).

    ``u_error()`` measures max |F(ppf(u)) - u| on a fine grid (eight points per interval).
    Reference: SciPy's ``stats.sampling.NumericalInversePolynomial`` (UNU.RAN's PINV), same contract.
    """

    def __init__(self, pdf: Callable[[np.ndarray], np.ndarray], support=(-np.inf, np.inf),
                 u_resolution: float = 1e-10, center: float | None = None, max_intervals: int = 50_000):
        if not callable(pdf):
            raise TypeError(f"pdf: expected a callable density, got {type(pdf).__name__}")
        lo, hi = (float(v) for v in support)
        if np.isnan(lo) or np.isnan(hi) or not lo < hi:
            raise ValueError(f"support: expected (lower, upper) with lower < upper, got {support!r}")
        u_resolution = check_real(u_resolution, "u_resolution")
        max_intervals = check_count(max_intervals, "max_intervals")
        if center is not None:
            check_real(center, "center")
        if not 1e-14 <= u_resolution <= 1e-2:
            raise ValueError(f"u_resolution: expected a value in [1e-14, 1e-2], got {u_resolution!r}")
        self.pdf, self.support, self.u_resolution = pdf, (lo, hi), u_resolution
        c = self._find_center(center)
        grid = self._initial_grid(c)
        self._build(grid, max_intervals)

    # ---- evaluating the user's pdf, with the checks that turn silent NaNs into clear errors --------
    def _density(self, x: np.ndarray, allow_inf: bool = False, check: bool = True) -> np.ndarray:
        """p(x) as float64 of x's shape; with ``check``, a NaN, negative or (unless allowed) infinite value
        is an error. The tail scan passes check=False: there such values may lie beyond the mass."""
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            y = np.asarray(self.pdf(x), dtype=np.float64)
        if y.shape != x.shape:
            try:
                y = np.broadcast_to(y, x.shape)
            except ValueError:
                raise ValueError(f"pdf must return one value per x: got shape {y.shape} for {x.shape}") from None
        if check:
            bad = np.isnan(y) | (y < 0) | (~allow_inf & np.isinf(y))
            if bad.any():
                i = np.flatnonzero(bad.ravel())[0]
                raise self._bad_value(x.ravel()[i], y.ravel()[i])
        return y

    def _bad_value(self, x: float, y: float, where: str = "") -> ValueError:
        what = "NaN" if np.isnan(y) else ("negative" if y < 0 else "infinite")
        return ValueError(f"pdf must be finite and non-negative where it has mass, but pdf({float(x)!r}) = "
                          f"{float(y)!r} ({what}){where}; if the pdf is only defined on part of the line "
                          "(e.g. x > 0), pass support=(lower, upper)")

    def _find_center(self, center: float | None) -> float:
        lo, hi = self.support
        if center is not None:
            c = float(center)
            if not lo < c < hi:
                raise ValueError(f"center: expected a point inside the support {self.support}, got {center!r}")
            return c
        c0 = (lo + hi) / 2 if np.isfinite(lo) and np.isfinite(hi) else (
            lo + 1.0 if np.isfinite(lo) else hi - 1.0 if np.isfinite(hi) else 0.0)
        steps = 2.0 ** np.arange(-30, 64)
        candidates = np.concatenate([[c0], np.ravel(np.column_stack([c0 - steps, c0 + steps]))])
        if np.isfinite(lo):
            candidates = np.concatenate([candidates, lo + steps])
        if np.isfinite(hi):
            candidates = np.concatenate([candidates, hi - steps])
        candidates = candidates[(candidates > lo) & (candidates < hi)]
        # Far probes may overflow to NaN / inf (exp(-x) / (1 + exp(-x))^2 at x = -1e3): only a finite
        # positive value can be a centre, and bad values are reported only if there is none.
        y = self._density(candidates, check=False)
        positive = np.flatnonzero(np.isfinite(y) & (y > 0))
        if positive.size == 0:
            self._density(candidates)                # a NaN / negative value is the clearer error
            raise ValueError(f"pdf is zero at every point probed in {self.support}; if it is not zero "
                             "everywhere, pass center= a point where it is positive")
        return float(candidates[positive[0]])

    def _initial_grid(self, c: float) -> np.ndarray:
        """Points c +- 2^k (k >= -30) towards each end; an infinite end is cut where the tail is negligible.

        Tail test: for tails that decay like 1/x^2 or faster the mass beyond x is at most p(x) |x - c|,
        so the grid stops after the last point where that bound exceeds 1e-2 u_resolution of its maximum.
        A NaN or +inf (overflow: inf / inf, inf * 0) after that point is outside the domain; one where
        the bound is still significant is an error.
        """
        lo, hi = self.support
        steps = 2.0 ** np.arange(-30, 1000)
        points, tails = [np.array([c])], []
        for sign, end in ((-1.0, lo), (1.0, hi)):
            x = c + sign * steps
            if np.isfinite(end):
                points.append(np.append(x[sign * (end - x) > 0], end))
            else:
                tails.append((sign, x, *self._tail_bound(x, c)))
        scale = max((bound.max(initial=0.0) for _, _, bound, _ in tails), default=0.0)
        for sign, x, bound, overflow in tails:
            significant = np.flatnonzero(bound > 1e-2 * self.u_resolution * scale)
            last = significant[-1] + 1 if significant.size else 0
            if last >= bound.size:
                if overflow is not None:              # the pdf breaks down before its tail has faded
                    raise self._bad_value(*overflow, where=", where the tail mass is not yet negligible")
                raise ValueError(f"pdf does not decay towards {'+' if sign > 0 else '-'}inf fast enough to "
                                 "be integrable; give a finite support")
            points.append(x[: last + 1])
        return np.unique(np.concatenate(points))

    def _tail_bound(self, x: np.ndarray, c: float, batch: int = 40):
        """p(x) |x - c| at the points x (moving away from c), evaluated batch by batch until negligible.

        Returns the bounds up to (not including) the first NaN / +inf value, and that (x, p(x)) or None.
        A negative value is an error wherever it is: it is a wrong formula, not a floating-point overflow.
        """
        bound = np.full(x.size, np.inf)
        for start in range(0, x.size, batch):
            xb = x[start:start + batch]
            y = self._density(xb, check=False)
            broken = np.flatnonzero(~np.isfinite(y) | (y < 0))
            if broken.size:                           # nothing past it can be evaluated
                i = broken[0]
                if y[i] < 0:
                    raise self._bad_value(xb[i], y[i])
                bound[start:start + i] = y[:i] * np.abs(xb[:i] - c)
                return bound[:start + i], (xb[i], y[i])
            bound[start:start + batch] = y * np.abs(xb - c)
            if bound[start:start + batch].max() <= 1e-2 * self.u_resolution * bound[: start + batch].max():
                bound[start + batch:] = 0.0
                break
        return bound, None

    # ---- quadrature ------------------------------------------------------------------------------
    def _integrate(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """int_left^right p, by 8-point Gauss-Legendre on each interval."""
        width = right - left
        return width * (self._density(left[:, None] + width[:, None] * _GL_T) @ _GL_W)

    # ---- the interpolant --------------------------------------------------------------------------
    @staticmethod
    def _hermite(x_left, width, mass, p_left, p_right):
        """Coefficients of the cubic x(s) = a0 + s (a1 + s (a2 + s a3)), s in [0, 1], on an interval:
        x(0), x(1) are its ends and the slopes are dx/ds = mass / p at both ends (dx/du = 1 / p), clipped
        to [0, 3] x the secant slope, where a cubic is monotone (Fritsch-Carlson)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            d0 = np.clip(mass / (p_left * width), 0.0, 3.0)
            d1 = np.clip(mass / (p_right * width), 0.0, 3.0)
        d0 = np.where(np.isnan(d0), 1.0, d0)   # 0 / 0 (no mass, no density): fall back to the secant
        d1 = np.where(np.isnan(d1), 1.0, d1)
        return x_left, width * d0, width * (3.0 - 2.0 * d0 - d1), width * (d0 + d1 - 2.0)

    def _build(self, grid: np.ndarray, max_intervals: int) -> None:
        left, right = grid[:-1], grid[1:]
        mass = self._integrate(left, right)
        total = mass.sum()
        if not total > 0:
            raise ValueError(f"pdf integrates to {float(total)!r} over {self.support}: it must be positive somewhere")
        # p at the nodes gives the slopes. A finite end of the support is evaluated one float inside it:
        # formulas like exp(-log(x)^2 / 2) / x are 0 / 0 exactly at x = 0 but fine just inside.
        probe = grid.copy()
        probe[0], probe[-1] = np.nextafter(grid[0], grid[-1]), np.nextafter(grid[-1], grid[0])
        p_nodes = self._density(probe, allow_inf=True)
        p_left, p_right = p_nodes[:-1], p_nodes[1:]
        done = np.zeros(left.size, dtype=bool)
        while not done.all():
            if left.size > max_intervals:
                raise RuntimeError(f"NumericalInverseCDF: more than {max_intervals} intervals without reaching "
                                   f"u_resolution={self.u_resolution}; is the pdf very irregular or singular?")
            a = np.flatnonzero(~done)
            l, r = left[a], right[a]
            quarters = l[:, None] + (r - l)[:, None] * np.array([0.0, 0.25, 0.5, 0.75, 1.0])
            q_mass = self._integrate(quarters[:, :-1].ravel(), quarters[:, 1:].ravel())
            q_mass = q_mass.reshape(-1, 4)
            refined = q_mass.sum(axis=1)
            tol = self.u_resolution * total
            quadrature_ok = np.abs(refined - mass[a]) <= 1e-2 * tol
            # The u-error at u = F_l + s m, s = 1/4, 1/2, 3/4: the interpolant sends u to x(s), and
            # |F(x(s)) - u| = |int_l^x(s) p - s m| (an interval with mass m below tol cannot fail).
            s_test = np.array([0.25, 0.5, 0.75])
            a0, a1, a2, a3 = self._hermite(l[:, None], (r - l)[:, None], refined[:, None],
                                           p_left[a][:, None], p_right[a][:, None])
            x_at = a0 + s_test * (a1 + s_test * (a2 + s_test * a3))
            reached = self._integrate(np.repeat(l, 3), x_at.ravel()).reshape(-1, 3)
            missed = np.abs(reached - s_test * refined[:, None]).max(axis=1)
            interpolation_ok = (refined <= tol) | (missed <= 0.5 * tol)
            # An interval a few ulps wide cannot be split further (and its nodes would hit its ends).
            unsplittable = (r - l) <= 64 * np.spacing(np.maximum(np.abs(l), np.abs(r)))
            ok = (quadrature_ok & interpolation_ok) | unsplittable
            mass[a] = refined
            done[a[ok]] = True
            split = a[~ok]
            if split.size:                          # replace [l, r] by [l, mid] and [mid, r]
                m = quarters[~ok, 2]
                p_mid = self._density(m)
                left = np.insert(left, split + 1, m)
                right = np.insert(right, split, m)
                mass = np.insert(mass, split + 1, q_mass[~ok, 2:].sum(axis=1))
                mass[split + np.arange(split.size)] = q_mass[~ok, :2].sum(axis=1)
                p_left = np.insert(p_left, split + 1, p_mid)
                p_right = np.insert(p_right, split, p_mid)
                done = np.insert(done, split + 1, False)
            total = mass.sum()
        self._finish(left, right, mass, p_left, p_right)

    def _finish(self, left, right, mass, p_left, p_right) -> None:
        # Intervals with no mass (the pdf is zero there) can never be drawn; drop them, and the ones with
        # a mass so small that its cube in the coefficients below would underflow.
        keep = mass > 1e-90 * mass.sum()
        left, right, mass, p_left, p_right = (v[keep] for v in (left, right, mass, p_left, p_right))
        cumulative = np.cumsum(mass)
        self.total_mass = float(cumulative[-1])
        u_grid = np.concatenate([[0.0], cumulative / self.total_mass])   # F at the nodes; ends at exactly 1
        u_left, du = u_grid[:-1], np.diff(u_grid)
        a0, a1, a2, a3 = self._hermite(left, right - left, mass, p_left, p_right)
        # In t = u - u_left (not s = t / du) the cubic is x = a0 + t (b1 + t (b2 + t b3)): one multiply less.
        self._u_left, self._x_left, self._x_right = u_left, left, right
        per_du = np.divide(1.0, du, out=np.zeros_like(du), where=du > 0)  # a zero-width interval is never drawn
        self._coef = (a0, a1 * per_du, a2 * per_du**2, a3 * per_du**3)
        self.n_intervals = left.size
        # Guide table: cell k covers u in [k/G, (k+1)/G); guide[k] = the interval that holds u = k/G.
        cells = max(8 * left.size, 1024)
        edges = np.arange(cells + 2) / cells
        first = np.searchsorted(u_left, edges[:-1], side="right") - 1
        last = np.maximum(np.searchsorted(u_left, edges[1:], side="left") - 1, first)
        self._guide, self._cells = first, cells
        self._crowded = last - first > 1             # > 2 intervals in the cell: binary search instead
        self._u_next = np.append(u_left[1:], np.inf)  # u_right of each interval

    # ---- the public interface --------------------------------------------------------------------
    @property
    def nodes(self) -> np.ndarray:
        """The interval ends x_j where F is computed and F^-1 is interpolated (for plots and curiosity)."""
        return np.union1d(self._x_left, self._x_right)

    def ppf(self, u) -> np.ndarray:
        """x = F^-1(u) for u in [0, 1] (interval lookup by guide table, then the interval's cubic)."""
        u = check_real_array(u, "u")
        if not np.all((u >= 0.0) & (u <= 1.0)):
            bad = u[~((u >= 0.0) & (u <= 1.0))].ravel()[0]
            raise ValueError(f"u: probabilities must lie in [0, 1], got {float(bad)!r}")
        flat = u.reshape(-1)
        out = np.empty(flat.shape)
        for start in range(0, flat.size, _CHUNK):
            out[start:start + _CHUNK] = self._ppf_block(flat[start:start + _CHUNK])
        return out.reshape(u.shape)

    def _ppf_block(self, u: np.ndarray) -> np.ndarray:
        cell = (u * self._cells).astype(np.intp)      # u in cell k = floor(G u) (u = 1: the extra cell G)
        j = self._guide.take(cell)
        j += u >= self._u_next.take(j)               # the cell holds at most two intervals ...
        crowded = np.flatnonzero(self._crowded.take(cell))
        if crowded.size:                              # ... except in steep tails: search those
            j[crowded] = np.searchsorted(self._u_left, u[crowded], side="right") - 1
        t = u - self._u_left.take(j)
        a0, b1, b2, b3 = self._coef
        x = b3.take(j)                                # x = a0 + t (b1 + t (b2 + t b3)), in place
        x *= t
        x += b2.take(j)
        x *= t
        x += b1.take(j)
        x *= t
        x += a0.take(j)
        return x

    def cdf(self, x) -> np.ndarray:
        """F(x) = F_j + int_{x_j}^x p / total, with x in interval j (Gauss-Legendre on [x_j, x])."""
        x = check_real_array(x, "x")
        if np.isnan(x).any():
            raise ValueError("x contains NaN")
        flat = x.reshape(-1)
        j = np.clip(np.searchsorted(self._x_left, flat, side="right") - 1, 0, self.n_intervals - 1)
        end = np.clip(flat, self._x_left[j], self._x_right[j])
        partial = self._integrate(self._x_left[j], end)
        F = self._u_left[j] + partial / self.total_mass
        F = np.where(flat < self._x_left[0], 0.0, np.minimum(F, 1.0))
        F[flat >= self._x_right[-1]] = 1.0      # past the domain all the mass is behind (no rounding left)
        return F.reshape(x.shape)

    def sample(self, size=(), rng: RNGLike = None) -> np.ndarray:
        """x = F^-1(u), u ~ U(0, 1): drawn block by block, so no array of all the u's is ever made."""
        rng = as_generator(rng)
        out = np.empty(check_size(size))
        flat = out.reshape(-1)
        for start in range(0, flat.size, _CHUNK):
            u = uniform_open(rng, min(_CHUNK, flat.size - start))
            flat[start:start + u.size] = self._ppf_block(u)
        return out

    def u_error(self, points_per_interval: int = 8) -> float:
        """max |F(F^-1(u)) - u| over u at (i + 1/2) / k of every interval (i < k, k = points_per_interval)."""
        points_per_interval = check_count(points_per_interval, "points_per_interval")
        s = (np.arange(points_per_interval) + 0.5) / points_per_interval
        du = np.diff(np.append(self._u_left, 1.0))
        u = (self._u_left[:, None] + du[:, None] * s).ravel()
        return float(np.max(np.abs(self.cdf(self.ppf(u)) - u)))
