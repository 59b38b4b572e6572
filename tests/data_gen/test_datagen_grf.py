"""Gaussian random fields: the sample spectrum matches the target covariance."""

import math

import numpy as np
import pytest
import scipy.fft
from scipy.stats import chi2

from sciml.data_gen import grf

SAMPLES = 400
#: probability that a correct generator fails a test (Bonferroni over the modes checked)
FALSE_ALARM = 1e-4


def target_eigenvalues(shape, alpha, tau, sigma, bc):
    """sigma^2 (mu_k + tau^2)^-alpha, written out independently of sciml.data_gen.grf."""
    if bc == "neumann":
        freqs = [math.pi * np.arange(n) for n in shape]
    else:
        freqs = [2 * math.pi * np.fft.fftfreq(n, 1 / n) for n in shape[:-1]]
        freqs.append(2 * math.pi * np.arange(shape[-1] // 2 + 1))
    mu = sum(np.meshgrid(*[f**2 for f in freqs], indexing="ij"))
    return sigma**2 * (mu + tau**2) ** (-alpha)


def degrees_of_freedom(shape, bc):
    """Real normal variables behind each transform coefficient: 1, or 2 for complex ones."""
    if bc == "neumann":
        return np.ones(shape)
    dof = np.full((*shape[:-1], shape[-1] // 2 + 1), 2.0)
    lengths = [*shape[:-1], shape[-1] // 2 + 1]
    real = [np.isin(np.arange(length), [0, n // 2] if n % 2 == 0 else [0])
            for n, length in zip(shape, lengths)]
    dof[np.ix_(*real)] = 1.0  # modes equal to their own negative are real
    return dof


@pytest.mark.parametrize("bc, shape, alpha, tau, sigma", [
    ("neumann", (16, 16), 2.0, 3.0, 3.0),     # FNO Darcy: sigma = tau^(alpha-1)
    ("neumann", (48,), 1.5, 2.0, 1.0),
    ("periodic", (64,), 2.0, 5.0, 25.0),      # FNO Burgers: 625 (-Lap + 25)^-2
    ("periodic", (12, 16), 2.5, 4.0, 1.0),
])
def test_sample_spectrum_matches_target_covariance_within_chi_square_bounds(
        bc, shape, alpha, tau, sigma):
    u = grf.sample(shape, np.random.default_rng(7), alpha=alpha, tau=tau, sigma=sigma, bc=bc,
                   n=SAMPLES)
    axes = tuple(range(1, len(shape) + 1))
    m = math.prod(shape)
    if bc == "neumann":   # the orthonormal DCT-II recovers sqrt(lambda_k) xi_k * sqrt(m)
        power = scipy.fft.dctn(u, type=2, norm="ortho", axes=axes) ** 2 / m
    else:                 # the orthonormal FFT gives E|c_k|^2 = lambda_k * m
        power = np.abs(scipy.fft.rfftn(u, axes=axes, norm="ortho")) ** 2 / m
    lam = target_eigenvalues(shape, alpha, tau, sigma, bc)
    dof = degrees_of_freedom(shape, bc)
    modes = np.ones(lam.shape, bool)
    modes[(0,) * len(shape)] = False          # the constant mode is dropped: exactly zero
    assert np.all(power[:, ~modes] < 1e-20)
    # each mode: sum over samples of dof * power / lambda ~ chi^2(dof * SAMPLES)
    stat = (dof * power.sum(axis=0) / lam)[modes]
    k = SAMPLES * dof[modes]
    p = FALSE_ALARM / modes.sum()
    assert np.all(stat > chi2.ppf(p / 2, k)), "a mode has too little variance"
    assert np.all(stat < chi2.isf(p / 2, k)), "a mode has too much variance"
    # pooled over modes the statistic is chi^2(sum k): catches a scale error of a few percent
    lo, hi = chi2.ppf(FALSE_ALARM / 2, k.sum()), chi2.isf(FALSE_ALARM / 2, k.sum())
    assert lo < stat.sum() < hi


@pytest.mark.parametrize("bc", grf.BOUNDARY_CONDITIONS)
def test_mean_variance_equals_average_sample_variance(bc):
    shape, options = (32, 32), {"alpha": 2.0, "tau": 3.0, "sigma": 3.0, "bc": bc}
    u = grf.sample(shape, np.random.default_rng(1), n=2000, **options)
    empirical = float(np.mean(u**2))
    # the mean of 2000 x 1024 correlated squares: a few percent of sampling error
    assert empirical == pytest.approx(grf.mean_variance(shape, **options), rel=0.05)


def test_invalid_parameters_are_rejected_with_the_expected_values():
    with pytest.raises(ValueError, match="bc must be one of"):
        grf.sample((8,), np.random.default_rng(0), bc="dirichlet")
    with pytest.raises(ValueError, match="alpha > 0"):
        grf.sample((8,), np.random.default_rng(0), alpha=0.0)
