"""Bad-input entries of the deep models, their metrics, the training loop, diffusion tools and plotting."""
