"""The lecture's deep generative models, one file each; the networks they share are in ``networks.py``."""
from typing import Any

from scratchgen.models.ddpm import DDPM, DDPMConfig, ddpm_config_from_dict
from scratchgen.models.gan import GAN, GANConfig, gan_config_from_dict
from scratchgen.models.networks import MLP, ConvDecoder, ConvEncoder
from scratchgen.models.vae import (
    ELBO,
    VAE,
    HierarchicalVAE,
    HierarchicalVAEConfig,
    VAEConfig,
    config_from_dict,
)
from scratchgen.models.vae import build_model as build_vae

MODEL_KINDS = ("vae", "hvae", "gan", "ddpm")


def build_model(config: Any) -> Any:
    """The model a config (or its JSON dict, as stored in a checkpoint) describes; ``kind`` picks the class."""
    if not isinstance(config, (dict, VAEConfig, GANConfig, DDPMConfig)):
        raise TypeError(f"config must be a model config (VAEConfig, HierarchicalVAEConfig, GANConfig, DDPMConfig) "
                        f"or its dict, got {type(config).__name__}")
    if isinstance(config, GANConfig):
        return GAN(config)
    if isinstance(config, dict) and config.get("kind") == "gan":
        return GAN(gan_config_from_dict(config))
    if isinstance(config, DDPMConfig):
        return DDPM(config)
    if isinstance(config, dict) and config.get("kind") == "ddpm":
        return DDPM(ddpm_config_from_dict(config))
    return build_vae(config)


__all__ = [
    "DDPM", "DDPMConfig", "ELBO", "GAN", "MLP", "MODEL_KINDS", "VAE", "ConvDecoder", "ConvEncoder", "GANConfig",
    "HierarchicalVAE", "HierarchicalVAEConfig", "VAEConfig", "build_model", "config_from_dict",
]
