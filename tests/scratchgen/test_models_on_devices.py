"""Each model trains on ``array_api_strict`` (the array-API standard's reference namespace, standing in for
CuPy) to the weights the NumPy run reaches: three steps of the shared training loop (Adam, gradient
clipping, EMA, dropout, WGAN-GP's second-order penalty, conv layers), then samples from the same seed.
Float64, so the comparison sees the engine's arithmetic and not float32 rounding amplified by Adam."""
import numpy as np
import pytest

from scratchgen.data import load_digits, make_toy
from scratchgen.models import VAE, HierarchicalVAE, HierarchicalVAEConfig, VAEConfig
from scratchgen.models.ddpm import DDPM, DDPMConfig
from scratchgen.models.gan import GAN, GANConfig
from scratchgen.training import TrainConfig, Trainer

pytest.importorskip("array_api_strict")

_train, _validation = load_digits("train"), load_digits("validation")
DIGITS = _train[0][:64], _validation[0][:32]
LABELLED = (_train[0][:64], _train[1][:64]), (_validation[0][:32], _validation[1][:32])
RING = make_toy("ring", 64, seed=0), make_toy("ring", 32, seed=1)

MODELS = {
    "vae_mlp_dropout": (lambda: VAE(VAEConfig(hidden=(16,), latent_dim=2, iwae_k=2, dropout=0.1)), DIGITS),
    "vae_conv": (lambda: VAE(VAEConfig(architecture="conv", latent_dim=2, iwae_k=2)), DIGITS),
    "hierarchical_vae": (lambda: HierarchicalVAE(HierarchicalVAEConfig(hidden=(16,), latent_dim=2,
                                                                       top_latent_dim=2, iwae_k=2)), DIGITS),
    "gan_wgan_gp_packed": (lambda: GAN(GANConfig(data="ring", loss="wgan_gp", gradient_penalty=1.0, pack=2,
                                                 generator_hidden=(16,), discriminator_hidden=(16,))), RING),
    "gan_dcgan": (lambda: GAN(GANConfig(data="digits", architecture="dcgan")), DIGITS),
    "ddpm_mlp": (lambda: DDPM(DDPMConfig(data="ring", hidden=(16, 16), time_dim=8, timesteps=20)), RING),
    "ddpm_unet_conditional": (lambda: DDPM(DDPMConfig(data="digits", architecture="unet", channels=8, time_dim=8,
                                                      groups=4, timesteps=20, num_classes=10)), LABELLED),
}


def _train_three_steps(name: str, device: str):
    make, (train, validation) = MODELS[name]
    model = make().to(np.float64).to(device)
    config = TrainConfig(epochs=1, batch_size=16, lr=1e-2, patience=0, ema_decay=0.9, grad_clip=1.0)
    Trainer(model, train, validation, config, progress=False).fit(max_steps=3)
    assert model.device == device
    samples = model.sample(4, rng=0)
    return model.state_dict(), samples


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_model_trains_to_the_same_weights_on_array_api_strict(name):
    (cpu_weights, cpu_samples), (weights, samples) = (_train_three_steps(name, d) for d in ("cpu", "array_api_strict"))
    assert cpu_weights.keys() == weights.keys()
    for key, value in cpu_weights.items():
        assert isinstance(weights[key], np.ndarray) and weights[key].dtype == value.dtype
        # 1e-9 of the tensor's scale: three Adam steps amplify the last-digit differences of summation order
        np.testing.assert_allclose(weights[key], value, rtol=0, atol=1e-9 * (np.abs(value).max() + 1e-30),
                                   err_msg=key)
    np.testing.assert_allclose(samples, cpu_samples, rtol=1e-9, atol=1e-9)
