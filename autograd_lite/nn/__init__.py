"""Neural-network building blocks: Module, Parameter, layers, initialisation and losses."""
from autograd_lite.nn import functional, init
from autograd_lite.nn.conv import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, Upsample
from autograd_lite.nn.layers import (
    GELU,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
)
from autograd_lite.nn.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    kl_normal_standard,
    mse_loss,
)
from autograd_lite.nn.module import Module, Parameter

__all__ = [
    "AvgPool2d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "Upsample",
    "GELU", "Dropout", "Embedding", "Flatten", "GroupNorm", "Identity", "LayerNorm", "LeakyReLU", "Linear",
    "Module", "Parameter", "ReLU", "Sequential", "SiLU", "Sigmoid", "Softplus", "Tanh",
    "binary_cross_entropy_with_logits", "cross_entropy", "functional", "gaussian_nll_loss", "init",
    "kl_normal_standard", "mse_loss",
]
