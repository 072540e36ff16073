"""Bad input everywhere: every public entry point of autograd_lite and scratchgen, fed hypothesis-drawn bad
arguments, raises ValueError or TypeError naming the argument; the command line answers with one line on
stderr and exit code 2.

The public API is enumerated (``__all__`` of the packages, the public names of the public modules, the
public methods of their classes, the command line's options): an entry point added later and registered
neither in ``bad_input_specs`` nor as exempt (with a reason) fails ``test_every_public_entry_point_is_covered``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings

import numpy as np
import pytest
from bad_input_specs import EXEMPT, REGISTRY, bad_values
from bad_input_specs import classical as _classical  # noqa: F401  (each module registers its entries)
from bad_input_specs import cli as cli_specs
from bad_input_specs import engine as _engine  # noqa: F401
from bad_input_specs import models as _models  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_lite
import scratchgen

# Packages whose __all__ is the public API, and public modules without one (their public names count).
PUBLIC_PACKAGES = (
    "autograd_lite",
    "autograd_lite.nn",
    "autograd_lite.nn.functional",
    "autograd_lite.ops",
    "scratchgen.data",
    "scratchgen.density",
    "scratchgen.models",
    "scratchgen.sampling",
)
PUBLIC_MODULES = (
    "autograd_lite.optim",
    "autograd_lite.nn.init",
    "autograd_lite.backend",
    "scratchgen.metrics",
    "scratchgen.distributions",
    "scratchgen.training",
    "scratchgen.models.inverse",
    "scratchgen.models.diffusion",
    "scratchgen.plotting",
)
# Modules that are neither: the implementation behind a package's __all__, or the engine's internals.
INTERNAL_MODULES = {
    "autograd_lite.function": "Function, exported by autograd_lite",
    "autograd_lite.grad_mode": "no_grad and friends, exported by autograd_lite",
    "autograd_lite.gradcheck": "gradcheck, exported by autograd_lite",
    "autograd_lite.io": "save and load, exported by autograd_lite",
    "autograd_lite.tensor": "Tensor, exported by autograd_lite",
    "autograd_lite.kernels": "the numba and array-API kernels behind the ops (the ops check their input)",
    "autograd_lite.ops._util": "helpers of the ops",
    "scratchgen.cli": "the command line: its options are enumerated from its parser",
    "scratchgen.density._persistence": "save/load of the estimators, exported through their methods",
    "scratchgen.density._validation": "the checks themselves",
    "scratchgen._checks": "the checks themselves",
    "scratchgen.report": "the tour's HTML report writer (demos/tour.py), exercised by tests/test_tour.py",
}
for _module in (
    "autograd_lite.nn.conv",
    "autograd_lite.nn.layers",
    "autograd_lite.nn.losses",
    "autograd_lite.nn.module",
    "autograd_lite.ops.conv",
    "autograd_lite.ops.elementwise",
    "autograd_lite.ops.linalg",
    "autograd_lite.ops.reduce",
    "autograd_lite.ops.shape",
    "scratchgen.data.digits",
    "scratchgen.data.toy",
    "scratchgen.density.categorical_mixture",
    "scratchgen.density.classifier",
    "scratchgen.density.gmm",
    "scratchgen.density.kde",
    "scratchgen.density.kernels",
    "scratchgen.models.data_config",
    "scratchgen.models.ddpm",
    "scratchgen.models.gan",
    "scratchgen.models.networks",
    "scratchgen.models.vae",
    "scratchgen.sampling.diagnostics",
    "scratchgen.sampling.discrete",
    "scratchgen.sampling.inverse_transform",
    "scratchgen.sampling.mcmc",
    "scratchgen.sampling.rejection",
    "scratchgen.sampling.rng",
):
    INTERNAL_MODULES[_module] = "implementation: its public names are its package's __all__"


def _is_ours(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in ("autograd_lite", "scratchgen")


def public_api() -> set[str]:
    """Qualified names of every public function, class and method."""
    from bad_input_specs import qualified_name

    objects = []
    for name in PUBLIC_PACKAGES + PUBLIC_MODULES:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None) if name in PUBLIC_PACKAGES else None
        if names is None:
            names = [
                n for n, o in vars(module).items() if not n.startswith("_") and getattr(o, "__module__", None) == name
            ]
        objects += [getattr(module, n) for n in names]
    api = set()
    for obj in objects:
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or not _is_ours(obj):
            continue  # constants and sub-modules
        api.add(qualified_name(obj))
        if inspect.isclass(obj):
            for klass in obj.__mro__:
                if not _is_ours(klass):
                    continue
                for attribute, member in vars(klass).items():
                    function = getattr(member, "__func__", member)
                    if not attribute.startswith("_") and inspect.isfunction(function):
                        api.add(qualified_name(function))
    # under mutation testing (bench/mutation.py) mutmut adds its mutants beside each function: not API
    return {name for name in api if "__mutmut_" not in name and "\u01c1" not in name}


def test_every_module_is_public_or_internal():
    modules = set()
    for package in (autograd_lite, scratchgen):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            modules.add(info.name)
    known = set(PUBLIC_PACKAGES) | set(PUBLIC_MODULES)
    unknown = {m for m in modules - known if not any(m == i or m.startswith(i + ".") for i in INTERNAL_MODULES)}
    assert not unknown, f"new modules: list them as public (and cover them) or internal: {sorted(unknown)}"


def test_every_public_entry_point_is_covered(capsys):
    api = public_api()
    missing = sorted(api - set(REGISTRY) - set(EXEMPT))
    stale = sorted((set(REGISTRY) | set(EXEMPT)) - api)
    assert not missing, f"{len(missing)} public entry points have no bad-input entry: {missing}"
    assert not stale, f"registered but not public (renamed or removed?): {stale}"


def _arguments():
    return [
        pytest.param(name, argument, id=f"{name}:{argument}")
        for name, spec in sorted(REGISTRY.items())
        for argument in spec.kinds
    ]


def _names_argument(message: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", message) is not None


@pytest.mark.parametrize("name", sorted(n for n, e in REGISTRY.items() if e.kinds or e.unfitted))
def test_the_valid_call_works(name):
    spec = REGISTRY[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec.call(**spec.valid)


@pytest.mark.parametrize("name, argument", _arguments())
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_bad_argument_is_refused_by_name(name, argument, data):
    spec = REGISTRY[name]
    bad = data.draw(bad_values(spec, argument), label=argument)
    word = spec.mentions.get(argument, argument)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.seterr(all="ignore")
        try:
            spec.call(**{**spec.valid, argument: bad})
        except (ValueError, TypeError) as error:
            assert _names_argument(str(error), word), (
                f"{name}({argument}={bad!r}) raised {type(error).__name__} without naming {word!r}: {error}"
            )
        else:
            pytest.fail(f"{name}({argument}={bad!r}) accepted the bad value")
        finally:
            np.seterr(all="warn")


@pytest.mark.parametrize("name", sorted(n for n, e in REGISTRY.items() if e.unfitted))
def test_an_unfitted_estimator_says_to_fit_it_first(name):
    with pytest.raises((ValueError, TypeError), match="fit"):
        REGISTRY[name].unfitted()


# ------------------------------------------------------------------------------------- the command line
def test_every_command_line_option_is_covered():
    options = cli_specs.enumerate_options()
    missing = sorted(set(options) - set(cli_specs.BAD_ARGUMENTS) - set(cli_specs.EXEMPT_OPTIONS))
    stale = sorted((set(cli_specs.BAD_ARGUMENTS) | set(cli_specs.EXEMPT_OPTIONS)) - set(options))
    assert not missing, f"command-line options without bad-input cases: {missing}"
    assert not stale, f"cases for options that no longer exist: {stale}"


@pytest.mark.parametrize("option, argv", cli_specs.cases())
def test_the_command_line_answers_misuse_with_one_line_and_exit_code_2(option, argv, capsys, tmp_path, monkeypatch):
    from scratchgen.cli import main

    argv = cli_specs.expand(argv, tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, f"scratchgen {' '.join(argv)} exited {code}, stderr: {captured.err!r}"
    assert len(lines) == 1 and lines[0].startswith("scratchgen: error:"), captured.err
