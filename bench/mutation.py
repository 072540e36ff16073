"""Mutation testing of the core modules with mutmut: how many planted bugs do the tests catch?

mutmut rewrites the code one small change at a time (a flipped comparison, an off-by-one, a changed constant,
a dropped argument) and runs the tests that reach the changed function; a mutant that no test fails on
"survived", and points at a gap in the tests (or is an equivalent mutant: a change that cannot alter any
result). Each group below mutates one part of the house against the tests written for it, in a scratch copy
of the working tree, so the repository is never touched.

Run (outside the default test run; it takes from minutes to hours per group on 2 cores):
    pip install mutmut==3.8.1
    python bench/mutation.py                      # every group
    python bench/mutation.py sampling density     # some groups
    python bench/mutation.py sampling --survivors # and list the surviving mutants (then: mutmut show NAME)

It prints the score per module, killed / (killed + survived + timeouts); mutants that no test reaches are
counted apart ("untested"), and writes bench/results/mutation_<group>.json. The README's docs report the
numbers and list the equivalent mutants with the reason.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# group -> (files to mutate (globs), the tests that cover them)
GROUPS: dict[str, tuple[list[str], list[str], str]] = {
    "sampling": (["scratchgen/sampling/*"], ["tests/scratchgen/test_sampling_*.py",
                                             "tests/scratchgen/test_sampler_power.py",
                                             "tests/scratchgen/test_sampling_contracts*.py"], "sampling"),
    "density": (["scratchgen/density/*"], ["tests/scratchgen/test_kde.py", "tests/scratchgen/test_gmm.py",
                                           "tests/scratchgen/test_mixtures_classifier.py",
                                           "tests/scratchgen/test_density_bad_input.py",
                                           "tests/scratchgen/test_sampler_power.py",
                                           "tests/scratchgen/test_density_contracts*.py"], "density"),
    "ops": (["autograd_lite/ops/*"], ["tests/autograd_lite/test_ops_*.py", "tests/autograd_lite/test_graph.py",
                                     "tests/autograd_lite/test_conv.py", "tests/autograd_lite/test_bad_operands.py",
                                     "tests/autograd_lite/test_torch_agreement.py",
                                     "tests/autograd_lite/test_tensor_methods.py"], "ops"),
    "optim": (["autograd_lite/optim.py"], ["tests/autograd_lite/test_optim*.py"], "optim"),
    "nn": (["autograd_lite/nn/*"], ["tests/autograd_lite/test_nn.py", "tests/autograd_lite/test_conv.py",
                                    "tests/autograd_lite/test_nn_contracts.py"],
           "layers or losses or init or module or conv"),
    "models": (["scratchgen/models/*"], ["tests/scratchgen/test_vae.py", "tests/scratchgen/test_gan.py",
                                         "tests/scratchgen/test_ddpm.py", "tests/scratchgen/test_inverse.py",
                                         "tests/scratchgen/test_training_loop.py",
                                         "tests/scratchgen/test_training_faults.py",
                                         "tests/scratchgen/test_models_on_devices.py", "tests/scratchgen/test_cli*.py",
                                         "tests/scratchgen/test_models_contracts*.py"], "models"),
}
# (the third field: a word in the ids of the bad-input fuzz's cases for the group; only those run with it)
STATUS_LINE = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>[\w ]+)$")
IGNORED = shutil.ignore_patterns(".venv", "mutants", ".git", "__pycache__", ".hypothesis", "demo_output",
                                 "*.egg-info", ".pytest_cache", ".ruff_cache", "mutation_*")


def scratch_copy(group: str) -> Path:
    """The working tree, copied to a scratch folder with a [mutmut] section for the group."""
    target = ROOT / "bench" / "results" / f"mutation_{group}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT, target, ignore=IGNORED)
    mutate, tests, keyword = GROUPS[group]
    # every group also runs the bad-input fuzz: it checks that each argument is validated, by name
    selection = sorted({str(p.relative_to(ROOT)) for pattern in [*tests, "tests/test_bad_input.py"]
                       for p in ROOT.glob(pattern)})  # (a file two patterns match runs once)
    config = ["", "[mutmut]", "source_paths =", "    autograd_lite", "    scratchgen", "only_mutate ="]
    config += [f"    {m}" for m in mutate]
    config += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in selection]
    # The text of error messages and warnings is not mutated: it cannot change an answer (that each message
    # names its argument is the bad-input fuzz's job); the conditions that raise them are.
    config += ["do_not_mutate_patterns =", r"    raise \w+\(", r"    warnings\.warn\("]
    # numba's JIT must see the same code in every process; hypothesis' example database stays out
    config += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -q", "    -k",
               f"    not test_bad_input or {keyword}"]
    with open(target / "setup.cfg", "a") as f:
        f.write("\n".join(config) + "\n")
    return target


def module_of(mutant: str) -> str:
    """'scratchgen.sampling.discrete.x_sample_discrete__mutmut_3' -> 'scratchgen/sampling/discrete.py'."""
    dotted = mutant.split("__mutmut_")[0].rsplit(".", 1)[0]
    parts = dotted.split(".")
    while parts and not (ROOT / Path(*parts)).with_suffix(".py").exists():
        parts.pop()                                     # a method: module.Class.x_method
    return str(Path(*parts).with_suffix(".py")) if parts else dotted


def run_group(group: str, survivors: bool) -> dict:
    workdir = scratch_copy(group)
    env = {**os.environ, "CI": "true", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mutmut", "run"], cwd=workdir, env=env, check=False)
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=workdir, env=env,
                             capture_output=True, text=True, check=False).stdout
    counts: dict[str, Counter] = defaultdict(Counter)
    surviving = []
    for line in listing.splitlines():
        match = STATUS_LINE.match(line)
        if match:
            status = match["status"].strip()
            counts[module_of(match["name"])][status] += 1
            if status == "survived":
                surviving.append(match["name"])
    summary = {"group": group, "seconds": round(time.perf_counter() - start), "modules": {}}
    for module, c in sorted(counts.items()):
        caught = c["killed"] + c["timeout"]
        judged = caught + c["survived"]
        summary["modules"][module] = {**c, "score": round(caught / judged, 4) if judged else None}
    summary["survivors"] = surviving
    out = ROOT / "bench" / "results" / f"mutation_{group}.json"
    out.write_text(json.dumps(summary, indent=1))
    print(f"\n== {group} ({summary['seconds']} s; mutants in {workdir}/mutants)")
    print(f"{'module':48s} {'killed':>7s} {'survived':>9s} {'timeout':>8s} {'untested':>9s} {'score':>7s}")
    for module, row in summary["modules"].items():
        score = "-" if row["score"] is None else f"{100 * row['score']:.1f}%"
        print(f"{module:48s} {row.get('killed', 0):7d} {row.get('survived', 0):9d} {row.get('timeout', 0):8d} "
              f"{row.get('no tests', 0):9d} {score:>7s}")
    if survivors:
        print("\n".join(["survivors:"] + surviving))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"groups to mutate: {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = parser.parse_args()
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}; choose from {', '.join(GROUPS)}")
    for group in args.groups or list(GROUPS):
        run_group(group, args.survivors)


if __name__ == "__main__":
    main()
