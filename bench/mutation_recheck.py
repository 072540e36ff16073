"""Recheck chosen mutants of a finished ``bench/mutation.py`` run against some test files, without a full run.

A full run of a group takes an hour or more on 2 cores; after new tests are written for its survivors, this
checks just those survivors. It runs inside the run's ``mutants/`` folder (which holds every mutant of the
group, switched on by the ``MUTANT_UNDER_TEST`` variable that mutmut's trampolines read at each call), copies
the given test files there, runs them once unmutated (imports, numba's compilation), then forks once per
mutant so each check starts warm, and prints one line per mutant: killed, survived or timeout.

    python bench/mutation.py models                                  # the full run, once
    python bench/mutation_recheck.py models tests/scratchgen/test_models_contracts_gan.py \\
        --mutants scratchgen.models.gan.x_minimax_loss__mutmut_3 ...
    python bench/mutation_recheck.py models TESTS... --survivors gan.py   # every survivor of one module
    python bench/mutation_recheck.py ops TESTS... --all autograd_lite/ops/conv.py   # every mutant of one module
    python bench/mutation_recheck.py ops TESTS... --fresh --mutants ...   # code run at import: a new process each
    python bench/mutation_recheck.py optim --generate   # the mutants again, without a run (e.g. in a fresh clone)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from mutation import module_of, scratch_copy  # noqa: E402  (the sibling script: the groups and their scratch copies)

# One thread per pool: OpenMP (PyTorch's, behind the agreement tests) and BLAS thread pools do not survive a
# fork, so a child that inherits a started pool hangs at its first parallel region.
for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_pool] = "1"


def check(mutant: str, tests: list[str], timeout: float) -> str:
    """Runs the tests in a fork with one mutant switched on: 'killed', 'survived' or 'timeout'."""
    import pytest

    pid = os.fork()
    if pid == 0:                                   # the child: quiet, mutated, stops at the first failure
        os.environ["MUTANT_UNDER_TEST"] = mutant
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        signal.alarm(int(timeout))
        code = pytest.main([*tests, "-x", "-q", "-p", "no:cacheprovider"])
        os._exit(int(code))
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "timeout" if os.WTERMSIG(status) == signal.SIGALRM else "killed"
    return "survived" if os.WEXITSTATUS(status) == 0 else "killed"


def check_fresh(mutant: str, tests: list[str], timeout: float) -> str:
    """Runs the tests in a new process with the mutant switched on from the start, so code that runs at import
    (which a warm fork, or mutmut itself, never reruns) runs mutated too."""
    import subprocess

    env = {**os.environ, "MUTANT_UNDER_TEST": mutant}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if done.returncode == 0 else "killed"


GENERATE = """
import os
import mutmut.__main__ as m
m.set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
m.copy_src_dir(); m.copy_also_copy_files(); m.setup_source_paths(); m.store_lines_covered_by_tests()
print(m.create_mutants(os.cpu_count() or 1))
"""


def generate(group: str) -> None:
    """A fresh scratch copy of the group and its mutants (mutmut's generation step only, seconds), numbered as in
    the committed run while the mutated code is unchanged since."""
    import subprocess

    workdir = scratch_copy(group)
    subprocess.run([sys.executable, "-c", GENERATE], cwd=workdir, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("group", help="the group whose run's mutants/ folder to use (ops, models, ...)")
    parser.add_argument("tests", nargs="*", help="test files, relative to the repository root")
    parser.add_argument("--generate", action="store_true", help="first make the group's scratch copy and its "
                        "mutants (with no finished run here, e.g. in a fresh clone: the survivors are read from the "
                        "committed bench/results/mutation_GROUP.json)")
    parser.add_argument("--mutants", nargs="*", default=[], help="mutant names")
    parser.add_argument("--survivors", metavar="MODULE", help="every survivor of the run in this module "
                        "(a suffix of its path, e.g. gan.py)")
    parser.add_argument("--all", metavar="PATH", help="every mutant of this module (its path, e.g. "
                        "autograd_lite/ops/conv.py), reached by the run's tests or not")
    parser.add_argument("--fresh", action="store_true", help="a new process per mutant, mutated from the import "
                        "on (for code that runs at import time; slower)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    args = parser.parse_args()

    if args.generate:
        generate(args.group)
        if not args.tests:
            return
    if not args.tests:
        parser.error("give the test files to run")
    workdir = ROOT / "bench" / "results" / f"mutation_{args.group}" / "mutants"
    if not workdir.is_dir():
        parser.error(f"{workdir} does not exist: run python bench/mutation.py {args.group}, or add --generate")
    mutants = list(args.mutants)
    if args.survivors:
        run = json.loads((ROOT / "bench" / "results" / f"mutation_{args.group}.json").read_text())
        mutants += [m for m in run["survivors"] if module_of(m).endswith(args.survivors)]
    if args.all:
        dotted = args.all.removesuffix(".py").replace("/", ".")
        source = (workdir / args.all).read_text()
        mutants += [f"{dotted}.{name}" for name in re.findall(r"def (\S+__mutmut_\d+)\(", source)]
    if not mutants:
        parser.error("no mutants: give --mutants or --survivors")
    for test in args.tests:                        # the tests as they are now, beside the mutated code
        shutil.copy2(ROOT / test, workdir / test)
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    os.environ.update({"CI": "true", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "MUTANT_UNDER_TEST": ""})

    import pytest

    if pytest.main([*args.tests, "-q", "-p", "no:cacheprovider"]) != 0:
        sys.exit("the tests fail without a mutant: fix them first")
    counts: dict[str, int] = {}
    for mutant in mutants:
        result = (check_fresh if args.fresh else check)(mutant, args.tests, args.timeout)
        counts[result] = counts.get(result, 0) + 1
        print(f"{mutant}: {result}", flush=True)
    print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
