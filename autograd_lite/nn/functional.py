"""The functional forms of layers and losses (PyTorch's ``torch.nn.functional``, usually imported as F)."""
from autograd_lite.nn.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    kl_normal_standard,
    mse_loss,
)
from autograd_lite.ops import (
    avg_pool2d,
    conv2d,
    conv_transpose2d,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    logsumexp,
    max_pool2d,
    pad,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
    upsample_nearest2d,
)

__all__ = [
    "avg_pool2d", "conv2d", "conv_transpose2d", "max_pool2d", "upsample_nearest2d",
    "binary_cross_entropy_with_logits", "cross_entropy", "gaussian_nll_loss", "gelu", "kl_normal_standard",
    "leaky_relu", "linear", "log_softmax", "logsumexp", "mse_loss", "pad", "relu", "sigmoid", "silu", "softmax",
    "softplus", "tanh",
]
