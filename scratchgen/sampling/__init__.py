"""Sampling from p(x) (lecture section 2): inverse transform (discrete and continuous), rejection, MCMC.

=================================  ==========================================================
``sample_discrete``, ``AliasTable``  discrete inverse transform; Walker/Vose alias method
``inverse_transform``                continuous inverse transform, x = F^-1(u)
``NumericalInverseCDF``              F and F^-1 built numerically from a (possibly unnormalised) pdf
``rejection_sample``                 accept x ~ q with probability p~(x) / (M q(x))
``metropolis_hastings``              random-walk Metropolis-Hastings, vectorised over chains
``autocorrelation_time`` & co        MCMC diagnostics: tau, ESS, split R-hat
=================================  ==========================================================
"""
from scratchgen.sampling.rng import as_generator

__all__ = ["as_generator"]
