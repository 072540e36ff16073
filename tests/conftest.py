"""Shared test configuration: hypothesis profiles (derandomised in CI) and a headless matplotlib."""
import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


ORACLES = ("torch", "mpmath", "scipy", "sklearn", "array_api_strict", "cupy")


def pytest_terminal_summary(terminalreporter):
    """Which oracles this run had (a missing one means its agreement tests were skipped: never silently), and
    the bad-input fuzz's reach (tests/test_bad_input.py), when it ran."""
    import importlib.util
    import sys

    present = {name: importlib.util.find_spec(name) is not None for name in ORACLES}
    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(
        "oracles: " + ", ".join(f"{name} {'yes' if ok else 'MISSING'}" for name, ok in present.items())
        + f"; {skipped} test(s) skipped (reasons above)")
    specs, cli = sys.modules.get("bad_input_specs"), sys.modules.get("bad_input_specs.cli")
    if specs is None or cli is None:
        return
    arguments = sum(len(e.kinds) for e in specs.REGISTRY.values())
    unfitted = sum(e.unfitted is not None for e in specs.REGISTRY.values())
    misuses = sum(len(v) for v in cli.BAD_ARGUMENTS.values())
    terminalreporter.write_line(
        f"bad-input fuzz: {len(specs.REGISTRY) + len(specs.EXEMPT)} public entry points "
        f"({len(specs.REGISTRY)} fed bad values in {arguments} arguments, {unfitted} also unfitted; "
        f"{len(specs.EXEMPT)} exempt with a reason), {len(cli.BAD_ARGUMENTS)} command-line options "
        f"({misuses} misuses)")
