"""Bad-input entries of the engine (autograd_lite): ops, Tensor, nn, optim, init, io, gradcheck."""
