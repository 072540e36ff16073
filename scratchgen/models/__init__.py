"""The lecture's deep generative models, one file each; the networks they share are in ``networks.py``."""
from scratchgen.models.networks import MLP, ConvDecoder, ConvEncoder
from scratchgen.models.vae import (
    ELBO,
    VAE,
    HierarchicalVAE,
    HierarchicalVAEConfig,
    VAEConfig,
    build_model,
    config_from_dict,
)

__all__ = [
    "ELBO", "MLP", "VAE", "ConvDecoder", "ConvEncoder", "HierarchicalVAE", "HierarchicalVAEConfig", "VAEConfig",
    "build_model", "config_from_dict",
]
