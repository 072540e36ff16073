"""One training step of the README's VAE, autograd_lite vs PyTorch CPU (float32, each side in its own process).

The model is ``scratchgen.cli.default_settings("vae")``: an MLP encoder 64-256-256-32 and decoder
16-256-256-1088 (leaky ReLU, dropout 0.3 after each hidden layer, input dropout 0.2), a categorical decoder
(a 17-way log-softmax per pixel), trained with the IWAE bound, k = 10 (``--elbo``: the ELBO, k = 1 instead).
A step is what ``Trainer`` does: a batch of 128 training digits, the loss (forward), backward, an Adam step
(lr 1e-3). The PyTorch side is the same network and the same loss written with ``torch.nn``.

Each engine runs in a worker process of its own (this script with ``--side``), started once and warmed up;
the parent then alternates timed rounds between the workers (only one runs at a time) and prints the median
time per step (and the CPU time per step, all threads together: on a loaded machine the 1-thread CPU time
is the steadier measure of work). Ours runs with NumPy's BLAS limited to 1 thread
(what the training loop does for conv models) and to 2 threads (what it does for this MLP model); PyTorch with
``torch.set_num_threads(2)``.

Run: ``python bench/models.py [--elbo] [--rounds 5] [--steps 100] [--torch-threads 2,1]`` (PyTorch optional:
without it only ours is timed; one ratio column per PyTorch thread count).
``python bench/models.py --check`` verifies that the two sides compute the same loss and gradients (same
weights, same noise, dropout off); ``--parts`` also times forward / backward / Adam apart.
"""
from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

LOG_2PI = math.log(2 * math.pi)
BATCH = 128


def settings(objective: str):
    """The README model's config (``default_settings("vae")``), with the ELBO variant's objective and k."""
    from scratchgen.cli import default_settings

    config, train = default_settings("vae")
    if objective == "elbo":
        config = replace(config, objective="elbo", iwae_k=1)
    return config, train


def train_images() -> np.ndarray:
    from scratchgen.data import load_digits

    return load_digits("train")[0]


def batches(n: int, seed: int = 0):
    """Endless minibatch indices of BATCH images: shuffled epochs, as the training loop draws them."""
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        for start in range(0, n - BATCH + 1, BATCH):
            yield perm[start:start + BATCH]


# ----- autograd_lite ----------------------------------------------------------------------------------------
class Ours:
    """The scratchgen VAE and its training step, as ``Trainer._train_step`` runs it."""

    def __init__(self, objective: str):
        from autograd_lite import nn, optim
        from scratchgen.models import VAE

        config, train = settings(objective)
        self.model = VAE(config)
        self.rng = np.random.default_rng(0)
        for module in self.model.modules():  # the Trainer hands every Dropout the training stream
            if isinstance(module, nn.Dropout):
                module.rng = self.rng
        self.x = self.model.check_data(train_images(), "train_data")
        self.batches = batches(len(self.x))
        self.optimizer = optim.Adam(list(self.model.parameters()), lr=train.lr)
        self.model.train()

    def forward(self):
        batch = self.model.to_tensor(self.x[next(self.batches)])
        loss = self.model.training_loss(batch, self.rng, 1.0)
        loss.item()
        return loss

    def backward(self, loss) -> None:
        self.optimizer.zero_grad()
        loss.backward()

    def update(self) -> None:
        self.optimizer.step()


# ----- PyTorch ----------------------------------------------------------------------------------------------
def torch_vae(config):
    """The same networks in ``torch.nn`` (layers in the same order, so ours' weights can be copied in)."""
    import torch

    def mlp(sizes):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.LeakyReLU(0.01))
                if config.dropout > 0:
                    layers.append(torch.nn.Dropout(config.dropout))
        return torch.nn.Sequential(*layers)

    class VAE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            d, hidden = config.latent_dim, config.hidden
            self.input_dropout = torch.nn.Dropout(config.input_dropout)
            self.encoder = mlp((64, *hidden, 2 * d))
            self.decoder = mlp((d, *hidden[::-1], 17 * 64))

        def encode(self, x):
            h = self.encoder(self.input_dropout(x / 16.0))
            d = h.shape[-1] // 2
            return h[..., :d], torch.clamp(h[..., d:], config.log_var_min, config.log_var_max)

        def log_px(self, z, levels):
            """log p(x|z): a 17-way log-softmax per pixel, picked at each pixel's grey level."""
            out = self.decoder(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:-1], 17, 64)
            index = levels.expand(*z.shape[:-1], 1, 64)
            return torch.log_softmax(out, dim=-2).gather(-2, index).squeeze(-2).sum(-1)

        def loss(self, x, levels, eta=None):
            mu, log_var = self.encode(x)
            if config.objective == "elbo":
                eta = torch.randn_like(mu) if eta is None else eta
                z = mu + torch.exp(0.5 * log_var) * eta
                kl = 0.5 * (mu * mu + torch.exp(log_var) - 1.0 - log_var).sum(-1)
                return -(self.log_px(z, levels) - kl).mean()
            k = config.iwae_k
            eta = torch.randn(k, *mu.shape) if eta is None else eta
            z = mu + torch.exp(0.5 * log_var) * eta
            log_q = -0.5 * (LOG_2PI + log_var + eta * eta).sum(-1)
            log_pz = -0.5 * (LOG_2PI + z * z).sum(-1)
            log_w = self.log_px(z, levels) + log_pz - log_q
            return -(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()

    return VAE()


class Torch:
    def __init__(self, objective: str, threads: int = 2):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        config, train = settings(objective)
        self.model = torch_vae(config)
        x = train_images()
        self.x = torch.from_numpy(x.astype(np.float32))
        self.levels = torch.from_numpy(x.astype(np.int64)).unsqueeze(-2)  # (n, 1, 64) for gather
        self.batches = batches(len(x))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=train.lr)
        self.model.train()

    def forward(self):
        idx = self.torch.from_numpy(next(self.batches))
        loss = self.model.loss(self.x[idx], self.levels[idx])
        loss.item()
        return loss

    def backward(self, loss) -> None:
        self.optimizer.zero_grad()
        loss.backward()

    def update(self) -> None:
        self.optimizer.step()


# ----- the worker -------------------------------------------------------------------------------------------
def worker(side: str, objective: str, threads: int, parts: bool) -> None:
    """Build one side (``threads``: NumPy's BLAS threads for ours, ``torch.set_num_threads`` for PyTorch), warm
    it up, then answer each line ``N`` on stdin with the wall-clock and CPU seconds per step of N steps
    (``parts``: forward, backward and Adam wall-clock seconds per step as well)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads if side == "ours" else 1, user_api="blas"):
        engine = Ours(objective) if side == "ours" else Torch(objective, threads)

        def run(n: int) -> list[float]:
            totals = [0.0, 0.0, 0.0]
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(n):
                t0 = time.perf_counter()
                loss = engine.forward()
                t1 = time.perf_counter()
                engine.backward(loss)
                t2 = time.perf_counter()
                engine.update()
                t3 = time.perf_counter()
                totals[0] += t1 - t0
                totals[1] += t2 - t1
                totals[2] += t3 - t2
            per_step, cpu = (time.perf_counter() - start) / n, (time.process_time() - cpu_start) / n
            return [per_step, cpu] + ([t / n for t in totals] if parts else [])

        run(20)  # warm-up: caches, allocator, numba
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "quit":
                break
            print(" ".join(f"{t:.6e}" for t in run(int(line))), flush=True)


class Worker:
    def __init__(self, label: str, side: str, objective: str, threads: int, parts: bool):
        self.label, self.side = label, side
        command = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--threads", str(threads),
                   "--objective", objective] + (["--parts"] if parts else [])
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.times: list[list[float]] = []
        self._expect("ready")

    def _expect(self, word: str) -> str:
        line = self.process.stdout.readline()
        if not line.startswith(word) and word:
            raise RuntimeError(f"worker {self.label} failed (got {line!r})")
        return line

    def round(self, steps: int) -> None:
        self.process.stdin.write(f"{steps}\n")
        self.process.stdin.flush()
        self.times.append([float(t) for t in self._expect("").split()])

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()

    def median(self, column: int = 0) -> float:
        return statistics.median(t[column] for t in self.times)


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def header(torch_threads: list[int]) -> str:
    ratios = "".join(f" {f'ours/torch-{n}':>13s}" for n in torch_threads)
    return f"{'objective':10s} {'side':22s} {'per step':>12s} {'rounds':>16s} {'CPU/step':>12s}{ratios}"


def benchmark(objective: str, rounds: int, steps: int, parts: bool, torch_threads: list[int]) -> None:
    """One table row per side; ours' rows end with ours / PyTorch (median wall-clock) for each PyTorch row."""
    specs = [("ours, 1 BLAS thread", "ours", 1), ("ours, 2 BLAS threads", "ours", 2)]
    specs += [(f"PyTorch, {n} thread{'s' if n > 1 else ''}", "torch", n) for n in torch_threads]
    workers = [Worker(label, side, objective, threads, parts) for label, side, threads in specs]
    try:
        for _ in range(rounds):
            for w in workers:
                w.round(steps)
    finally:
        for w in workers:
            w.close()
    name = ("IWAE k=10" if objective == "iwae" else "ELBO k=1")
    torch_times = [w.median() for w in workers if w.side == "torch"]
    for w in workers:
        spread = f"{min(t[0] for t in w.times) * 1e3:.1f}-{max(t[0] for t in w.times) * 1e3:.1f}"
        ratios = "" if w.side == "torch" else "".join(f" {w.median() / t:13.2f}" for t in torch_times)
        print(f"{name:10s} {w.label:22s} {w.median() * 1e3:9.2f} ms {spread:>13s} ms {w.median(1) * 1e3:9.2f} ms"
              f"{ratios}")
        if parts:
            f, b, s = (w.median(i) * 1e3 for i in (2, 3, 4))
            print(f"{'':33s} forward {f:.2f} ms, backward {b:.2f} ms, Adam {s:.2f} ms")


# ----- the correctness check --------------------------------------------------------------------------------
def check(objective: str) -> None:
    """Same weights, same noise, dropout off: the two losses and all gradients agree (float32 tolerances)."""
    import torch

    from autograd_lite import nn
    from scratchgen.models import VAE

    config, _ = settings(objective)
    ours = VAE(config)
    theirs = torch_vae(config)
    ours_linear = [m for m in ours.modules() if isinstance(m, nn.Linear)]
    their_linear = [m for m in theirs.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.weight.shape for m in ours_linear] == [tuple(m.weight.shape) for m in their_linear]
    with torch.no_grad():
        for a, b in zip(ours_linear, their_linear):
            b.weight.copy_(torch.from_numpy(a.weight.numpy()))
            b.bias.copy_(torch.from_numpy(a.bias.numpy()))
    ours.eval()  # dropout off on both sides: the only randomness left is the reparameterisation noise
    theirs.eval()
    x = train_images()[:BATCH]
    k = config.iwae_k if objective == "iwae" else 1
    shape = (k, BATCH, config.latent_dim) if objective == "iwae" else (BATCH, config.latent_dim)
    eta = np.random.default_rng(0).standard_normal(shape).astype(np.float32)  # what ours draws with seed 0
    loss = ours.training_loss(ours.to_tensor(x), np.random.default_rng(0), 1.0)
    loss.backward()
    loss_t = theirs.loss(torch.from_numpy(x.astype(np.float32)),
                         torch.from_numpy(x.astype(np.int64)).unsqueeze(-2), torch.from_numpy(eta))
    loss_t.backward()
    worst = 0.0
    for a, b in zip(ours_linear, their_linear):
        for pa, pb in ((a.weight, b.weight), (a.bias, b.bias)):
            g, gt = pa.grad.numpy(), pb.grad.numpy()
            worst = max(worst, float(np.abs(g - gt).max() / (np.abs(gt).max() + 1e-12)))
    print(f"{objective}: loss ours {float(loss.item()):.5f}, torch {float(loss_t.item()):.5f}; "
          f"largest gradient difference {worst:.1e} (relative to each tensor's largest entry)")
    assert abs(float(loss.item()) - float(loss_t.item())) < 1e-3 * abs(float(loss_t.item()))
    assert worst < 1e-3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elbo", action="store_true", help="also time the ELBO (k = 1) objective")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side (default 5)")
    parser.add_argument("--steps", type=int, default=100, help="steps per round (default 100)")
    parser.add_argument("--parts", action="store_true", help="also time forward, backward and Adam apart")
    parser.add_argument("--check", action="store_true", help="check both sides compute the same loss and grads")
    parser.add_argument("--side", choices=("ours", "torch"), help=argparse.SUPPRESS)  # a worker process
    parser.add_argument("--objective", choices=("iwae", "elbo"), default="iwae", help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", default="2",
                        help="PyTorch thread counts to time, comma-separated (default 2)")
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        worker(args.side, args.objective, args.threads, args.parts)
        return
    torch_available = have_torch()
    if args.check:
        if not torch_available:
            sys.exit("--check needs PyTorch (pip install torch==2.13.0)")
        check("iwae")
        check("elbo")
        return
    if not torch_available:
        print("PyTorch is not installed (pip install torch==2.13.0): timing autograd_lite only")
    print(f"README VAE training step (MLP 64-256-256, latent 16, categorical, batch {BATCH}, Adam), float32; "
          f"median of {args.rounds} rounds x {args.steps} steps")
    torch_threads = [int(n) for n in args.torch_threads.split(",")] if torch_available else []
    print(header(torch_threads))
    for objective in ["iwae"] + (["elbo"] if args.elbo else []):
        benchmark(objective, args.rounds, args.steps, args.parts, torch_threads)


if __name__ == "__main__":
    main()
