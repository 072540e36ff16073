"""The README and the docs/ pages: their Python examples run as written, and every relative link (and its
#anchor) leads somewhere."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
# Pages another piece of work writes; the README links them already (checked once they exist).
PENDING = {ROOT / "docs" / "mutation.md"}


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


def test_readme_has_examples():
    assert python_blocks(README), "README.md should show at least one runnable example"


def test_readme_examples_run(capsys):
    for block in python_blocks(README):
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    mse = float(re.search(r"final MSE ([0-9.]+)", out).group(1))
    assert mse < 0.01
    assert "[ 6. 12.]" in out


@pytest.mark.parametrize("page", [p for p in PAGES[1:] if python_blocks(p)], ids=lambda p: p.name)
def test_the_docs_examples_run(page):
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), {"__name__": "docs"})


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_leads_somewhere(page):
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if file in PENDING and not file.exists():
            continue
        assert file.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            assert anchor in anchors(file), f"{page.name}: no heading #{anchor} in {file.name}"


def test_the_readme_is_a_map_not_a_manual():
    text = README.read_text()
    assert len(text.splitlines()) < 300
    assert "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest" in text
    assert "python demos/tour.py" in text
