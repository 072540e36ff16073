"""Sampling from p(x) (lecture section 2): inverse transform (discrete and continuous), rejection, MCMC.

===================================  ==========================================================
``sample_discrete``, ``AliasTable``  discrete inverse transform; Walker/Vose alias method
``inverse_transform``                continuous inverse transform, x = F^-1(u)
``NumericalInverseCDF``              F and F^-1 built numerically from a (possibly unnormalised) pdf
``rejection_sample``                 accept x ~ q with probability p~(x) / (M q(x))
``metropolis_hastings``              random-walk Metropolis-Hastings, vectorised over chains
``mala``, ``hmc``, ``leapfrog``      gradient-based MCMC (gradients from autograd_lite)
``autocorrelation_time`` & co        MCMC diagnostics: tau, ESS, split R-hat
===================================  ==========================================================
"""
from scratchgen.sampling.diagnostics import (
    autocorrelation_function,
    autocorrelation_time,
    effective_sample_size,
    split_rhat,
)
from scratchgen.sampling.discrete import AliasTable, check_probabilities, discrete_cdf, sample_discrete
from scratchgen.sampling.inverse_transform import NumericalInverseCDF, inverse_transform
from scratchgen.sampling.mcmc import MCMCResult, hmc, leapfrog, mala, metropolis_hastings
from scratchgen.sampling.rejection import rejection_sample
from scratchgen.sampling.rng import as_generator

__all__ = [
    "AliasTable", "MCMCResult", "NumericalInverseCDF", "as_generator", "autocorrelation_function",
    "autocorrelation_time", "check_probabilities", "discrete_cdf", "effective_sample_size", "hmc",
    "inverse_transform", "leapfrog", "mala", "metropolis_hastings", "rejection_sample", "sample_discrete",
    "split_rhat",
]
