"""The tour (demos/tour.py, ``scratchgen tour``) and its report (scratchgen/report.py): the page links every
figure that exists and none that does not, names the code and the command of every section, and survives
Ctrl-C and a failing demo; a real browser draws it (when one is installed)."""
import importlib.util
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from scratchgen.report import REPORT_NAME, SectionReport, load_results, render_report, write_report

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def load_tour():
    spec = importlib.util.spec_from_file_location("tour_under_test", ROOT / "demos" / "tour.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


tour = load_tour()


class Links(HTMLParser):
    """Every img src and a href of a page, every section's id with its text, and whether it loads anything."""

    def __init__(self):
        super().__init__()
        self.images, self.anchors, self.external, self.sections = [], [], [], {}
        self._section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "a" and not attrs["href"].startswith("#"):
            self.anchors.append(attrs["href"])
        if tag in ("script", "link", "iframe") or any(str(v).startswith(("http:", "https:", "//"))
                                                      for v in attrs.values()):
            self.external.append((tag, attrs))
        if tag == "section":
            self._section = attrs["id"]
            self.sections[self._section] = ""

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._section:
            self.sections[self._section] += data


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def entry(key: str, figures: list[str], **kwargs) -> SectionReport:
    return SectionReport(key=key, title=f"section {key}", summary="what it shows", equation="p(x) = 1",
                         code=["scratchgen/report.py"], command=f"python demos/tour.py --sections {key}",
                         figures=figures, **kwargs)


# ----- the report ---------------------------------------------------------------------------------------------
def test_the_report_links_every_figure_that_exists_and_none_that_does_not(tmp_path):
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "c.png").write_bytes(PNG)
    (tmp_path / "stray.png").write_bytes(PNG)  # in the folder but no section's: not linked
    sections = [entry("one", ["a.png", "b.png"], status="interrupted"), entry("two", ["c.png"], status="done")]
    links = parse(write_report(tmp_path, sections))
    assert sorted(links.images) == ["a.png", "c.png"]
    assert sorted(links.anchors) == ["a.png", "c.png"]
    assert "not written: b.png" in links.sections["section-one"]
    assert all(not Path(src).is_absolute() for src in links.images)  # figures beside the page


def test_the_report_escapes_its_text_and_loads_nothing_from_anywhere(tmp_path):
    (tmp_path / "x.png").write_bytes(PNG)
    evil = entry("evil", ["x.png"], numbers={"<b>bold</b>": "<script>alert(1)</script>", "ratio": 1 / 3})
    evil.title, evil.equation = "<script>no</script>", "a < b & c > d"
    page = render_report(tmp_path, [evil])
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &lt; b &amp; c &gt; d" in page
    assert "0.3333" in page  # floats to four significant digits
    links = Links()
    links.feed(page)
    assert links.external == []


def test_the_results_round_trip_through_tour_json(tmp_path):
    sections = [entry("one", [], status="done", numbers={"n": 3, "rate": 0.25, "steps": np.int64(7)}, seconds=1.5)]
    write_report(tmp_path, sections)
    assert load_results(tmp_path) == {"one": sections[0]}  # NumPy scalars come back as Python numbers
    (tmp_path / "tour.json").write_text("{not json")
    assert load_results(tmp_path) == {}


def test_a_section_entry_is_checked():
    with pytest.raises(ValueError, match="status"):
        entry("one", [], status="finished")
    with pytest.raises(ValueError, match="code"):
        SectionReport(key="k", title="t", summary="", equation="", code=[], command="c")


# ----- the tour's map ---------------------------------------------------------------------------------------
def test_the_sections_follow_the_lecture_and_name_code_that_exists():
    assert tour.KEYS == ("likelihood", "inverse-transform", "rejection", "mcmc", "gmm-em", "kde", "why-generative",
                         "curse-of-dimensionality", "gan", "vae", "ddpm", "conditional-inverse")
    for section in tour.SECTIONS:
        for path in section.code:
            assert (ROOT / path).exists(), f"{section.key}: {path} does not exist"
        if section.demo:
            demo = tour.load_demo(section.demo)
            assert all(callable(getattr(demo, f)) for f in section.functions)
            assert section.functions or callable(demo.run)


@pytest.mark.parametrize("mode", tour.MODES)
def test_every_section_entry_has_its_code_and_the_command_that_reproduces_it(tmp_path, mode):
    entries = [tour._entry(s, mode) for s in tour.SECTIONS]
    links = parse(write_report(tmp_path, entries))
    assert len(links.sections) == len(tour.SECTIONS)
    for section in tour.SECTIONS:
        text = links.sections[f"section-{section.key}"]
        assert "Code:" in text and all(path in text for path in section.code)
        assert f"Reproduce: {section.command(mode)}" in text
        assert section.equation.splitlines()[0] in text
        if section.demo:
            assert f"--sections {section.key}" in section.command(mode)
            assert ("--quick" in section.command(mode)) == (mode == "quick")


def test_sections_are_chosen_by_key_or_by_demo_in_lecture_order():
    assert [s.key for s in tour.select_sections("vae,rejection")] == ["rejection", "vae"]
    assert [s.key for s in tour.select_sections(["sec3"])] == ["gmm-em", "kde", "curse-of-dimensionality"]
    for bad in ("nope", "", "gan,", "sec9"):
        with pytest.raises(ValueError, match="unknown section"):
            tour.select_sections(bad)


# ----- running it -------------------------------------------------------------------------------------------
def test_a_quick_subset_writes_its_figures_numbers_and_report(tmp_path, capsys):
    assert tour.run_tour(tmp_path, "quick", "rejection,curse-of-dimensionality") == 0
    out = capsys.readouterr().out
    assert "[1/2] Sampling: rejection sampling" in out and "[2/2] The curse of dimensionality" in out
    links = parse(tmp_path / REPORT_NAME)
    assert sorted(links.images) == ["sec2_rejection_sampling.png", "sec3_curse_of_dimensionality.png"]
    for name in links.images:
        assert (tmp_path / name).read_bytes()[:8] == PNG
    results = load_results(tmp_path)
    assert results["rejection"].status == "done" and results["gan"].status == "not run"
    assert results["likelihood"].status == "no demo"
    rate = results["rejection"].numbers["acceptance rate"]
    assert abs(rate - results["rejection"].numbers["1/M (the expected rate)"]) < 0.05
    assert "quick sizes" in results["rejection"].budget
    assert "Reproduce: python demos/tour.py --sections gan --quick" in links.sections["section-gan"]


def test_a_later_run_keeps_the_sections_it_did_not_run(tmp_path):
    assert tour.run_tour(tmp_path, "quick", "rejection") == 0
    assert tour.run_tour(tmp_path, "quick", "curse-of-dimensionality") == 0
    results = load_results(tmp_path)
    assert results["rejection"].status == results["curse-of-dimensionality"].status == "done"
    assert "earlier run" in results["rejection"].note
    assert len(parse(tmp_path / REPORT_NAME).images) == 2


def fake_section(out_dir: Path, name: str) -> tuple[list[str], dict]:
    (out_dir / name).write_bytes(PNG)
    return [name], {"measured": 1.0}


def test_ctrl_c_keeps_what_finished_and_still_writes_the_report(tmp_path, monkeypatch):
    calls = []

    def run_section(section, out_dir, mode):
        calls.append(section.key)
        if section.key == "mcmc":  # one figure written, then Ctrl-C
            fake_section(out_dir, section.figures[0])
            raise KeyboardInterrupt
        return fake_section(out_dir, section.figures[0])

    monkeypatch.setattr(tour, "run_section", run_section)
    assert tour.run_tour(tmp_path, "default", "sec2,gan") == 130
    assert calls == ["inverse-transform", "rejection", "mcmc"]  # the GAN never started
    results = load_results(tmp_path)
    assert [results[k].status for k in ("inverse-transform", "rejection", "mcmc", "gan")] == [
        "done", "done", "interrupted", "not run"]
    links = parse(tmp_path / REPORT_NAME)
    assert sorted(links.images) == ["sec2_discrete_inverse_transform.png", "sec2_metropolis_hastings.png",
                                    "sec2_rejection_sampling.png"]
    assert "not written: sec2_gradient_mcmc.png" in links.sections["section-mcmc"]


def test_a_failing_demo_costs_only_its_own_section(tmp_path, monkeypatch, capsys):
    def run_section(section, out_dir, mode):
        if section.key == "rejection":
            raise RuntimeError("a broken demo")
        return fake_section(out_dir, section.figures[0])

    monkeypatch.setattr(tour, "run_section", run_section)
    assert tour.run_tour(tmp_path, "quick", "sec2") == 1
    results = load_results(tmp_path)
    assert [results[k].status for k in ("inverse-transform", "rejection", "mcmc")] == ["done", "failed", "done"]
    assert "RuntimeError: a broken demo" in results["rejection"].note
    assert "a broken demo" in capsys.readouterr().err  # the traceback


def test_old_figures_do_not_pass_for_a_new_run(tmp_path, monkeypatch):
    (tmp_path / "sec2_rejection_sampling.png").write_bytes(PNG)  # from an earlier run

    def run_section(section, out_dir, mode):
        raise KeyboardInterrupt

    monkeypatch.setattr(tour, "run_section", run_section)
    assert tour.run_tour(tmp_path, "quick", "rejection") == 130
    assert parse(tmp_path / REPORT_NAME).images == []


@pytest.mark.parametrize("demo", ["sec5_gan.py", "sec6_vae.py", "sec7_ddpm.py", "sec8_conditional_inverse.py"])
def test_ctrl_c_during_training_stops_the_demo(demo, tmp_path, monkeypatch):
    """The Trainer turns Ctrl-C into an early stop; the deep demos turn that into KeyboardInterrupt, so the tour
    stops instead of drawing a half-trained model and training the next one."""
    module = tour.load_demo(demo)
    Trainer = module.Trainer

    class Interrupted(Trainer):
        def fit(self, *args, **kwargs):
            self.stop_requested = True  # what the Trainer's SIGINT handler sets
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(module, "Trainer", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        module.run(str(tmp_path), quick=True)
    assert not list(tmp_path.glob("*.png"))


def test_the_quick_tour_writes_every_figure_and_the_report(tmp_path, capsys):
    """The whole --quick tour, through the scratchgen command (about half a minute on two cores)."""
    from scratchgen.cli import main

    assert main(["tour", "--quick", "--out", str(tmp_path)]) == 0
    expected = [name for s in tour.SECTIONS for name in s.figures]
    links = parse(tmp_path / REPORT_NAME)
    assert links.images == expected  # every figure, in lecture order, and nothing else
    results = load_results(tmp_path)
    for section in tour.SECTIONS:
        result = results[section.key]
        assert result.status == ("done" if section.demo else "no demo")
        assert result.figures == list(section.figures)
        if section.demo:
            assert result.numbers and all(isinstance(v, (int, float, str)) for v in result.numbers.values())
            assert "quick" in result.budget and result.command.endswith("--quick")
    assert "report: " in capsys.readouterr().out


def test_the_tour_script_answers_misuse_with_one_line_and_exit_code_2(tmp_path):
    (tmp_path / "file").write_text("")
    for argv in (["--sections", "nope"], ["--quick", "--full"], ["--out", str(tmp_path / "file")]):
        done = subprocess.run([sys.executable, str(ROOT / "demos" / "tour.py"), *argv], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("tour: error:")
        assert not (tmp_path / REPORT_NAME).exists()


# ----- in a real browser ------------------------------------------------------------------------------------
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.mark.skipif(find_browser() is None, reason="no Chromium or Chrome binary found (shutil.which)")
def test_headless_chromium_draws_the_report(tmp_path):
    """The command of docs/tour.md: the page, opened from a file with no network, draws its figures."""
    import matplotlib.image

    assert tour.run_tour(tmp_path, "quick", "rejection") == 0
    shot = tmp_path / "screenshot.png"
    subprocess.run([find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1600", f"--screenshot={shot}", (tmp_path / REPORT_NAME).as_uri()],
                   capture_output=True, timeout=120, check=True)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    assert pixels.std() > 0.05  # text and figures, not a blank page
    # the rejection figure's accepted points (matplotlib's tab:green, not the darker green of the status badge)
    # reach the screen: the image loaded from beside the page
    green = np.all(np.abs(pixels - np.array([0.17, 0.63, 0.17])) < 0.08, axis=-1)
    assert np.count_nonzero(green) > 20  # ~130 at the quick figure's size; 0 without the image


class Trained(Exception):
    """Raised by the recording Trainer below: the budget is known, nothing needs to train."""


@pytest.mark.parametrize("demo, expected", [
    ("sec5_gan.py", {"max_steps": 100 * 196}),          # the ring's 100 epochs of ceil(50000 / 256) steps
    ("sec6_vae.py", {"max_steps": None, "epochs": 250}),  # the README's epochs, early stopping on
    ("sec7_ddpm.py", {"max_steps": 120 * 196}),         # the swiss roll's 120 epochs (the first model trained)
    ("sec8_conditional_inverse.py", {"max_steps": 400 * 8}),
])
def test_full_trains_the_readme_budget(demo, expected, tmp_path, monkeypatch):
    module = tour.load_demo(demo)
    seen = {}

    class Recording(module.Trainer):
        def fit(self, max_steps=None):
            seen.update(max_steps=max_steps, epochs=self.config.epochs)
            raise Trained

    monkeypatch.setattr(module, "Trainer", Recording)
    with pytest.raises(Trained):
        module.run(str(tmp_path), full=True)
    assert {k: seen[k] for k in expected} == expected


def test_a_real_ctrl_c_during_training_still_writes_the_report(tmp_path):
    """A real SIGINT once the GAN section has started (loading, or inside the first ring game, where the
    Trainer stops after its step and the demo stops with it): the tour stops and the report says so."""
    import signal
    import time

    process = subprocess.Popen([sys.executable, str(ROOT / "demos" / "tour.py"), "--sections", "gan", "--out",
                                str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("[1/1] The generative adversarial network")
        time.sleep(3)  # inside the first ring game's 3000 steps (about 6 s on two cores)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in out
    results = load_results(tmp_path)
    assert results["gan"].status == "interrupted" and results["rejection"].status == "not run"
    assert "not written: sec5_gan_training.png" in parse(tmp_path / REPORT_NAME).sections["section-gan"]
