"""autograd_lite vs PyTorch CPU, side by side in one run (float32, PyTorch on 2 threads).

    (a) a training step of an MLP 64-256-256-10, batch 128 (cross-entropy, Adam)
    (b) a training step of a 2-D MLP 2-128-128-128-2, batch 256 (MSE, Adam): the toy GAN/diffusion size
    (c) forward + backward of one tiny op (y = a * b on 8 elements): the per-op overhead

Each case alternates the two engines for several rounds and reports the median time per step, so
both see the same machine load. Run: ``python bench/engine.py`` (needs ``pip install torch==2.13.0``).
"""
from __future__ import annotations

import statistics
import time

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim

try:
    import torch
except ImportError:  # the benchmark still times autograd_lite alone
    torch = None


def timed(step, n_steps: int) -> float:
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps


def mlp_step_ours(sizes, batch, loss_name, rng):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, rng=rng))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = al.tensor(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    if loss_name == "ce":
        target = rng.integers(0, sizes[-1], batch)
    else:
        target = rng.standard_normal((batch, sizes[-1])).astype(np.float32)

    def step():
        out = model(x)
        loss = nn.cross_entropy(out, target) if loss_name == "ce" else nn.mse_loss(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def mlp_step_torch(sizes, batch, loss_name, rng):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    if loss_name == "ce":
        target = torch.from_numpy(rng.integers(0, sizes[-1], batch))
        loss_fn = torch.nn.functional.cross_entropy
    else:
        target = torch.from_numpy(rng.standard_normal((batch, sizes[-1])).astype(np.float32))
        loss_fn = torch.nn.functional.mse_loss

    def step():
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def tiny_op_ours(rng):
    a = al.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    b = al.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    ones = al.tensor(np.ones(8, np.float32))

    def step():
        (a * b).backward(ones)

    return step


def tiny_op_torch(rng):
    a = torch.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
    ones = torch.ones(8)

    def step():
        (a * b).backward(ones)

    return step


def compare(name: str, ours, theirs, n_steps: int, rounds: int = 7) -> tuple[float, float | None]:
    ours_times, their_times = [], []
    timed(ours, max(1, n_steps // 5))  # warm-up: JIT compiles, caches, allocator
    if theirs is not None:
        timed(theirs, max(1, n_steps // 5))
    for _ in range(rounds):
        ours_times.append(timed(ours, n_steps))
        if theirs is not None:
            their_times.append(timed(theirs, n_steps))
    t_ours = statistics.median(ours_times)
    t_theirs = statistics.median(their_times) if their_times else None
    return t_ours, t_theirs


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:8.1f} us"


def main() -> None:
    if torch is not None:
        torch.set_num_threads(2)
    cases = [
        ("(a) MLP 64-256-256-10, batch 128, Adam step", ((64, 256, 256, 10), 128, "ce"), 200),
        ("(b) MLP 2-128-128-128-2, batch 256, Adam step", ((2, 128, 128, 128, 2), 256, "mse"), 200),
    ]
    print(f"{'case':52s} {'autograd_lite':>13s} {'PyTorch CPU':>13s} {'ratio (ours/torch)':>19s}")
    for name, args, n_steps in cases:
        ours = mlp_step_ours(*args, np.random.default_rng(0))
        theirs = mlp_step_torch(*args, np.random.default_rng(0)) if torch is not None else None
        t_ours, t_theirs = compare(name, ours, theirs, n_steps)
        ratio = f"{t_ours / t_theirs:19.2f}" if t_theirs else f"{'-':>19s}"
        print(f"{name:52s} {fmt(t_ours):>13s} {fmt(t_theirs) if t_theirs else '-':>13s} {ratio}")
    ours = tiny_op_ours(np.random.default_rng(0))
    theirs = tiny_op_torch(np.random.default_rng(0)) if torch is not None else None
    t_ours, t_theirs = compare("tiny", ours, theirs, 3000)
    ratio = f"{t_ours / t_theirs:19.2f}" if t_theirs else f"{'-':>19s}"
    name = "(c) one tiny op (a * b, 8 elements), fwd + bwd"
    print(f"{name:52s} {fmt(t_ours):>13s} {fmt(t_theirs) if t_theirs else '-':>13s} {ratio}")


if __name__ == "__main__":
    main()
