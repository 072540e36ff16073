"""Speed of autograd_lite's convolutions against PyTorch CPU and a plain NumPy im2col, in one run.

Not part of the tests. For the shapes the digits models use, it times the forward pass and the
forward + backward pass (input and weight gradients) of

  ours      autograd_lite.conv2d / conv_transpose2d on Tensors (numba kernels), and the same with the
            generic array-API path (what AUTOGRAD_LITE_DISABLE_NUMBA=1 runs);
  PyTorch   torch.nn.functional on CPU, 2 threads, float32 (skipped if torch is not installed);
  NumPy     a plain im2col: sliding_window_view + matmul forward, np.add.at col2im backward.

Every contender gets the same float32 data; each time is the best of many calls (the least disturbed
by other work on the machine). PyTorch runs in a process of its own so that its idle OpenMP threads
cannot tax ours (nor ours its). GFLOP/s counts 2*N*C_out*C_in*kH*kW*H_out*W_out
per product (forward: one product, forward + backward: three), and "of matmul" compares that rate with
np.matmul on the GEMM of the same size (what im2col reduces the conv to) on this machine.

More sections (all of them with --all):
  --threading  the same conv under different threading set-ups, fresh processes (why the kernels use the
               one they do);
  --gemm       each case's block GEMM in a numba matmul against BLAS (why the GEMM stays in BLAS);
  --compile    import + first conv call with a cold and a warm numba cache, fresh processes.

Usage: python bench/conv.py [--quick] [--threading] [--gemm] [--compile] [--all]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import autograd_lite as al
from autograd_lite import kernels

THREADS = 2


@dataclass
class Case:
    name: str
    batch: int
    c_in: int
    c_out: int
    size: int  # input height = width
    kernel: int
    stride: int
    padding: int
    transposed: bool = False

    @property
    def out_size(self) -> int:
        if self.transposed:
            return (self.size - 1) * self.stride - 2 * self.padding + self.kernel
        return (self.size + 2 * self.padding - self.kernel) // self.stride + 1

    def flops(self) -> float:
        """2 * multiply-adds of one product (forward, input gradient and weight gradient cost the same)."""
        pixels = self.size**2 if self.transposed else self.out_size**2
        return 2.0 * self.batch * self.c_in * self.c_out * self.kernel**2 * pixels

    def gemm_shape(self) -> tuple[int, int, int]:
        """(M, K, N) of the GEMM that im2col turns the forward into."""
        if self.transposed:
            return self.c_out * self.kernel**2, self.c_in, self.batch * self.size**2
        return self.c_out, self.c_in * self.kernel**2, self.batch * self.out_size**2


CASES = [
    Case("conv 1->32, 8x8, b128", 128, 1, 32, 8, 3, 1, 1),
    Case("conv 32->64, 8x8, b128", 128, 32, 64, 8, 3, 1, 1),
    Case("conv 1->32, 28x28, b64", 64, 1, 32, 28, 3, 1, 1),
    Case("conv 32->64, 14x14, b64", 64, 32, 64, 14, 3, 1, 1),
    Case("convT 64->32 k4 s2, 4->8, b128", 128, 64, 32, 4, 4, 2, 1, transposed=True),
    Case("convT 64->32 k4 s2, 7->14, b64", 64, 64, 32, 7, 4, 2, 1, transposed=True),
]


# --------------------------------------------------------------------------- the plain NumPy baseline
def numpy_im2col(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    """(N*H_out*W_out, C*k*k) patches via sliding_window_view (a copy at the reshape)."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k)


def numpy_col2im(cols: np.ndarray, shape: tuple, k: int, stride: int, padding: int, out_hw: tuple) -> np.ndarray:
    """Adds (N*H_out*W_out, C*k*k) patches back onto the image with np.add.at."""
    n, c, h, w = shape
    oh, ow = out_hw
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), cols.dtype)
    ni, ii, ji, ci, pi, qi = np.ix_(range(n), range(oh), range(ow), range(c), range(k), range(k))
    rows, columns = ii * stride + pi, ji * stride + qi
    np.add.at(padded, (ni, ci, rows, columns), cols.reshape(n, oh, ow, c, k, k))
    return padded[:, :, padding : padding + h, padding : padding + w]


def numpy_conv(x, w, case: Case):
    cols = numpy_im2col(x, case.kernel, case.stride, case.padding)
    y = cols @ w.reshape(w.shape[0], -1).T
    o = case.out_size
    return y.reshape(x.shape[0], o, o, -1).transpose(0, 3, 1, 2), cols


def numpy_conv_backward(x, w, cols, gy, case: Case):
    g = gy.transpose(0, 2, 3, 1).reshape(-1, w.shape[0])
    dw = (g.T @ cols).reshape(w.shape)
    dx = numpy_col2im(g @ w.reshape(w.shape[0], -1), x.shape, case.kernel, case.stride, case.padding, gy.shape[2:])
    return dx, dw


def numpy_conv_transpose(x, w, case: Case):
    """y = col2im(x^T w): each input pixel spreads w[c] over its output window."""
    n, c, h, _ = x.shape
    g = x.transpose(0, 2, 3, 1).reshape(-1, c)
    o = case.out_size
    return numpy_col2im(g @ w.reshape(c, -1), (n, w.shape[1], o, o), case.kernel, case.stride, case.padding, (h, h))


def numpy_conv_transpose_backward(x, w, gy, case: Case):
    cols = numpy_im2col(gy, case.kernel, case.stride, case.padding)  # (N*H*W, C_out*k*k)
    c = x.shape[1]
    g = x.transpose(0, 2, 3, 1).reshape(-1, c)
    dx = (cols @ w.reshape(c, -1).T).reshape(x.shape[0], x.shape[2], x.shape[3], c).transpose(0, 3, 1, 2)
    return dx, (g.T @ cols).reshape(w.shape)


# ---------------------------------------------------------------------------------------------- timing
def best_times(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Seconds per call of each contender: the best of ``rounds`` calls after a warm-up, i.e. the call least
    disturbed by other work on the machine (2 shared cores: one busy neighbour doubles a time).

    Contenders run one after another, with a pause between them: an idle OpenBLAS or OpenMP pool keeps
    spinning for a while after its last call and would otherwise tax whoever runs next.
    """
    best = {}
    for name, fn in contenders.items():
        time.sleep(0.3)
        fn()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    return best


def matmul_gflops(m: int, k: int, n: int, rounds: int) -> float:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
    seconds = best_times({"matmul": lambda: a @ b}, rounds)["matmul"]
    return 2.0 * m * k * n / seconds / 1e9


def case_arrays(case: Case) -> tuple[np.ndarray, ...]:
    """float32 input, weight, bias and output gradient of ``case`` (the same in every process)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case.batch, case.c_in, case.size, case.size), dtype=np.float32)
    w_shape = (case.c_in, case.c_out) if case.transposed else (case.c_out, case.c_in)
    w = rng.standard_normal((*w_shape, case.kernel, case.kernel), dtype=np.float32) * 0.1
    b = np.zeros(case.c_out, np.float32)
    gy = rng.standard_normal((case.batch, case.c_out, case.out_size, case.out_size), dtype=np.float32)
    return x, w, b, gy


def our_contenders(case: Case) -> dict[str, dict[str, Callable[[], object]]]:
    x, w, b, gy = case_arrays(case)
    geometry = dict(stride=case.stride, padding=case.padding)
    op = al.conv_transpose2d if case.transposed else al.conv2d

    def ours_forward():
        with al.no_grad():
            return op(al.Tensor(x), al.Tensor(w), al.Tensor(b), **geometry)

    def ours_forward_backward():
        inputs, weight, bias = (al.Tensor(a, requires_grad=True) for a in (x, w, b))
        op(inputs, weight, bias, **geometry).backward(al.Tensor(gy))
        return inputs.grad, weight.grad

    def generic(fn):
        def run():
            kernels.set_numba_enabled(False)
            try:
                return fn()
            finally:
                kernels.set_numba_enabled(True)
        return run

    if case.transposed:
        def numpy_forward():
            return numpy_conv_transpose(x, w, case)

        def numpy_forward_backward():
            numpy_conv_transpose(x, w, case)
            return numpy_conv_transpose_backward(x, w, gy, case)
    else:
        def numpy_forward():
            return numpy_conv(x, w, case)[0]

        def numpy_forward_backward():
            _, cols = numpy_conv(x, w, case)
            return numpy_conv_backward(x, w, cols, gy, case)

    return {
        "forward": {"ours": ours_forward, "ours generic": generic(ours_forward), "numpy": numpy_forward},
        "forward+backward": {"ours": ours_forward_backward, "ours generic": generic(ours_forward_backward),
                             "numpy": numpy_forward_backward},
    }


def torch_contenders(case: Case, torch) -> dict[str, Callable[[], object]]:
    tx, tw, tb, tgy = (torch.from_numpy(a) for a in case_arrays(case))
    op = torch.nn.functional.conv_transpose2d if case.transposed else torch.nn.functional.conv2d
    geometry = dict(stride=case.stride, padding=case.padding)

    def forward():
        with torch.no_grad():
            return op(tx, tw, tb, **geometry)

    def forward_backward():
        inputs, weight, bias = (t.clone().requires_grad_() for t in (tx, tw, tb))
        op(inputs, weight, bias, **geometry).backward(tgy)
        return inputs.grad, weight.grad

    return {"forward": forward, "forward+backward": forward_backward}


def torch_times(rounds: int) -> dict[str, dict[str, float]]:
    """PyTorch's times for every case, measured in this process (run it in its own, see run_table)."""
    import torch

    torch.set_num_threads(THREADS)
    return {case.name: best_times(torch_contenders(case, torch), rounds) for case in CASES}


def run_table(quick: bool) -> None:
    rounds = 10 if quick else 40
    torch_results = run_torch_worker(rounds)
    print(f"float32, ms per call, best of {rounds}; 'x torch' = our time / PyTorch's (below 1: we are "
          "faster); 'x numpy' = plain NumPy's time / ours")
    header = (f"{'case':32s} {'pass':17s} {'ours':>7s} {'generic':>8s} {'torch':>7s} {'numpy':>7s} "
              f"{'x torch':>8s} {'x numpy':>8s} {'GFLOP/s':>8s} {'of matmul':>9s}")
    print(header)
    print("-" * len(header))
    for case in CASES:
        gemm_rate = matmul_gflops(*case.gemm_shape(), rounds)
        for pass_name, contenders in our_contenders(case).items():
            times = best_times(contenders, rounds)
            flops = case.flops() * (1 if pass_name == "forward" else 3)
            ours = times["ours"]
            torch_time = torch_results.get(case.name, {}).get(pass_name, float("nan"))
            rate = flops / ours / 1e9
            print(f"{case.name:32s} {pass_name:17s} {ours * 1e3:7.2f} {times['ours generic'] * 1e3:8.2f} "
                  f"{torch_time * 1e3:7.2f} {times['numpy'] * 1e3:7.2f} {ours / torch_time:8.2f} "
                  f"{times['numpy'] / ours:8.1f} {rate:8.1f} {rate / gemm_rate:9.0%}")
    print(f"np.matmul on a 1024^3 float32 GEMM here: {matmul_gflops(1024, 1024, 1024, 5):.0f} GFLOP/s")


def run_torch_worker(rounds: int, repeats: int = 2) -> dict[str, dict[str, float]]:
    """PyTorch's best times, from ``repeats`` fresh processes of its own (its OpenMP threads spin after each
    call and would tax ours in a shared process); the best over the processes."""
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        worker = subprocess.run([sys.executable, __file__, "--torch-worker", str(rounds)], capture_output=True,
                                text=True)
        if worker.returncode:
            print(f"(PyTorch column skipped: {worker.stderr.strip().splitlines()[-1]})")
            return {}
        for case, times in json.loads(worker.stdout).items():
            for pass_name, seconds in times.items():
                previous = best.setdefault(case, {}).get(pass_name, float("inf"))
                best[case][pass_name] = min(previous, seconds)
    return best


# ----------------------------------------------------------------------------------- fresh processes
THREADING_PROBE = textwrap.dedent("""
    import contextlib, json, os, statistics, sys, time
    import numpy as np
    import numba
    from numba import njit, prange
    import autograd_lite as al
    from autograd_lite import kernels
    setup = sys.argv[1]
    if setup == "fused, BLAS not limited":
        kernels._Numba.one_blas_thread = staticmethod(contextlib.nullcontext)

    @njit(parallel=True)
    def im2col_all(x, cols):  # the split pipeline's parallel im2col: 3x3, padding 1, stride 1
        n_batch, channels, h, w = x.shape
        for row in prange(channels * 9):
            c, p, q = row // 9, (row // 3) % 3, row % 3
            for n in range(n_batch):
                for i in range(h):
                    for j in range(w):
                        y, z = i + p - 1, j + q - 1
                        inside = 0 <= y < h and 0 <= z < w
                        cols[row, (n * h + i) * w + j] = x[n, c, y, z] if inside else 0

    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 32, 8, 8), dtype=np.float32)
    w = rng.standard_normal((64, 32, 3, 3), dtype=np.float32)
    gy = rng.standard_normal((128, 64, 8, 8), dtype=np.float32)
    if setup.startswith("split"):
        cols = np.empty((288, 128 * 64), np.float32)
        w2 = w.reshape(64, -1)
        def step():  # forward and weight gradient: numba im2col, then multi-threaded np.matmul
            im2col_all(x, cols)
            y = (w2 @ cols).reshape(64, 128, 64).transpose(1, 0, 2)
            g = np.ascontiguousarray(gy.reshape(128, 64, 64).transpose(1, 0, 2)).reshape(64, -1)
            return y, g @ cols.T
    else:
        def step():
            return kernels.conv2d_forward(x, w, None, 1, 1), kernels.conv2d_weight_grad(x, gy, 3, 1, 1)
    if "Linear" in setup:  # a model: the conv, then a fully connected layer on np.matmul
        features = rng.standard_normal((128, 4096), dtype=np.float32)
        weights = rng.standard_normal((4096, 64), dtype=np.float32)
        conv_step = step
        def step():
            return conv_step(), features @ weights
        if "1 thread" in setup:
            from threadpoolctl import threadpool_limits
            threadpool_limits(1, user_api="blas")
    step()
    times = []
    cpu_start = time.process_time()
    for _ in range(100):
        start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu_start) / 100
    print(json.dumps({"best": min(times), "median": statistics.median(times), "cpu": cpu,
                      "layer": numba.threading_layer()}))
""")

THREADING_SETUPS = [
    # (label, extra environment)
    ("split: numba im2col + np.matmul (2 BLAS threads)", {"NUMBA_THREADING_LAYER": "omp"}),
    ("split, workqueue layer", {"NUMBA_THREADING_LAYER": "workqueue"}),
    ("fused, BLAS not limited", {"NUMBA_THREADING_LAYER": "workqueue"}),
    ("fused, omp layer", {"NUMBA_THREADING_LAYER": "omp"}),
    ("fused, workqueue layer (ours)", {}),
    ("ours + a Linear layer, NumPy's BLAS at 2 threads", {}),
    ("ours + a Linear layer, NumPy's BLAS at 1 thread", {}),
]


def run_threading() -> None:
    print(f"\nThreading set-ups: conv 32->64 on 8x8, batch 128, forward + weight gradient, {THREADS} threads, "
          "fresh process each; ms per step: best and median wall time of 100, and CPU time (all threads; "
          "above the work itself it is spinning)")
    for label, extra in THREADING_SETUPS:
        env = {**os.environ, "NUMBA_NUM_THREADS": str(THREADS), **extra}
        setup = "split" if label.startswith("split") else label
        result = subprocess.run([sys.executable, "-c", THREADING_PROBE, setup], env=env, capture_output=True,
                                text=True)
        if result.returncode:
            print(f"  {label:52s} failed: {result.stderr.strip().splitlines()[-1]}")
            continue
        numbers = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"  {label:52s} best {numbers['best'] * 1e3:6.2f}  median {numbers['median'] * 1e3:6.2f}  "
              f"CPU {numbers['cpu'] * 1e3:6.2f}  (layer {numbers['layer']})")


def run_gemm_choice(rounds: int) -> None:
    """Is a numba matmul worth having? Each case's per-block GEMM (C_out x C_in*k*k times C_in*k*k x ~1024
    columns, one thread), a straightforward numba kernel (rows as axpy updates, vectorised over columns)
    against BLAS through numba's np.dot."""
    from numba import njit

    @njit(cache=True)
    def numba_matmul(a, b, out):
        for i in range(a.shape[0]):
            row = out[i]
            for j in range(row.size):
                row[j] = 0
            for r in range(a.shape[1]):
                coefficient = a[i, r]
                source = b[r]
                for j in range(row.size):
                    row[j] += coefficient * source[j]
        return out

    @njit(cache=True)
    def blas_matmul(a, b, out):
        np.dot(a, b, out)
        return out

    print("\nThe block GEMM: a numba matmul against BLAS (one thread, float32, GFLOP/s)")
    kernels._Numba.load()
    rng = np.random.default_rng(0)
    with kernels._Numba.one_blas_thread():
        for case in CASES:
            m, k, n = case.gemm_shape()
            n = min(n, 1024)
            a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
            out = np.empty((m, n), np.float32)
            contenders = {"numba": lambda a=a, b=b, out=out: numba_matmul(a, b, out),
                          "blas": lambda a=a, b=b, out=out: blas_matmul(a, b, out)}
            times = best_times(contenders, rounds)
            rate = {name: 2.0 * m * k * n / t / 1e9 for name, t in times.items()}
            print(f"  {case.name:32s} ({m} x {k}) @ ({k} x {n}): numba {rate['numba']:5.1f}, BLAS {rate['blas']:5.1f}"
                  f"  -> {'numba' if rate['numba'] > rate['blas'] else 'BLAS'}")


COMPILE_PROBE = textwrap.dedent("""
    import time
    start = time.perf_counter()
    import numpy as np
    import autograd_lite as al
    imported = time.perf_counter()
    x = al.Tensor(np.ones((8, 1, 8, 8), np.float32), requires_grad=True)
    conv = al.nn.Conv2d(1, 4, 3, padding=1)
    conv(x).sum().backward()
    done = time.perf_counter()
    print(imported - start, done - imported)
""")


def run_compile() -> None:
    print("\nFirst run: import autograd_lite, then one Conv2d forward + backward (float32), fresh processes")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold numba cache", "warm numba cache"):
            result = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, capture_output=True, text=True,
                                    check=True)
            imported, first_call = (float(v) for v in result.stdout.split())
            print(f"  {label:18s} import {imported:5.2f} s, first conv forward + backward {first_call:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--threading", action="store_true", help="only the threading comparison")
    parser.add_argument("--compile", action="store_true", help="only the compile-cost measurement")
    parser.add_argument("--gemm", action="store_true", help="only the numba-matmul-or-BLAS comparison")
    parser.add_argument("--all", action="store_true", help="table, threading and compile cost")
    parser.add_argument("--torch-worker", type=int, metavar="ROUNDS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        print(json.dumps(torch_times(args.torch_worker)))
        return
    only = args.threading or args.compile or args.gemm
    if args.all or not only:
        run_table(args.quick)
    if args.all or args.threading:
        run_threading()
    if args.all or args.gemm:
        run_gemm_choice(40)
    if args.all or args.compile:
        run_compile()


if __name__ == "__main__":
    main()
