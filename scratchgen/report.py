"""The tour's HTML report: one self-contained ``index.html`` beside the figures it shows.

Pure string building (``html.escape`` on every piece of text), so it can be tested without running a demo.
A section's figures are linked by relative paths, and only when the file exists: a section that was stopped
by Ctrl-C, or never run, names its missing figures as plain text. No script, no stylesheet or font from the
network: the page opens from a file on a machine without one.

The tour (``demos/tour.py``) also keeps each section's result as JSON (``tour.json`` beside the report), so a
later ``--sections`` run updates its own sections and keeps the others' entries.
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

REPORT_NAME = "index.html"
RESULTS_NAME = "tour.json"
STATUSES = ("done", "interrupted", "failed", "not run", "no demo")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222;
       line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
nav ol { columns: 2; }
section { border-top: 1px solid #ccc; margin-top: 2em; padding-top: 0.5em; }
pre.equation { background: #f4f4f8; padding: 0.6em 0.8em; border-left: 3px solid #669; white-space: pre-wrap; }
.status { display: inline-block; padding: 0 0.5em; border-radius: 3px; font-size: 0.85em; color: white; }
.status-done { background: #2a7a2a; } .status-interrupted { background: #b36b00; }
.status-failed { background: #b00020; } .status-not-run, .status-no-demo { background: #777; }
.budget { font-style: italic; color: #555; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
table.numbers { border-collapse: collapse; font-size: 0.9em; }
table.numbers td { border-bottom: 1px solid #eee; padding: 0.15em 0.8em 0.15em 0; vertical-align: top; }
table.numbers td.value { font-family: ui-monospace, monospace; white-space: nowrap; }
code { background: #f4f4f4; padding: 0 0.2em; }
p.missing { color: #b00020; }
"""


@dataclass
class SectionReport:
    """One lecture section of the report: what it illustrates, what ran, and what came out.

    ``figures`` are file names relative to the report's folder; ``numbers`` maps a measured quantity's
    description to its value; ``code`` lists the repository paths that made it; ``command`` reproduces it."""

    key: str
    title: str
    summary: str
    equation: str
    code: list[str]
    command: str
    figures: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    status: str = "not run"
    budget: str = ""
    seconds: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        for name in ("key", "title", "command"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")
        if not self.code:
            raise ValueError(f"section {self.key!r}: code must name at least one path")


def format_value(value: Any) -> str:
    """A measured number as text: floats to 4 significant digits, everything else as it is."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _anchor(key: str) -> str:
    return "section-" + "".join(c if c.isalnum() else "-" for c in key)


def _render_section(number: int, section: SectionReport, out_dir: Path) -> str:
    e = html.escape
    status_class = "status-" + section.status.replace(" ", "-")
    timing = f" in {section.seconds:.1f} s" if section.seconds is not None else ""
    parts = [f'<section id="{_anchor(section.key)}">',
             f"<h2>{number}. {e(section.title)}</h2>",
             f'<p><span class="status {status_class}">{e(section.status)}</span>{e(timing)}'
             + (f' <span class="budget">{e(section.budget)}</span>' if section.budget else "") + "</p>",
             f"<p>{e(section.summary)}</p>"]
    if section.note:
        parts.append(f"<p>{e(section.note)}</p>")
    if section.equation:
        parts.append(f'<pre class="equation">{e(section.equation)}</pre>')
    missing = []
    for name in section.figures:
        if (out_dir / name).is_file():
            src = e(Path(name).as_posix(), quote=True)
            parts.append(f'<figure><a href="{src}"><img src="{src}" alt="{e(name, quote=True)}" loading="lazy">'
                         f"</a><figcaption>{e(name)}</figcaption></figure>")
        else:
            missing.append(name)
    if missing:
        parts.append(f'<p class="missing">not written: {e(", ".join(missing))}</p>')
    if section.numbers:
        rows = "".join(f'<tr><td>{e(str(k))}</td><td class="value">{e(format_value(v))}</td></tr>'
                       for k, v in section.numbers.items())
        parts.append(f'<h3>Measured</h3><table class="numbers">{rows}</table>')
    code = ", ".join(f"<code>{e(path)}</code>" for path in section.code)
    parts.append(f"<p><b>Code:</b> {code}</p>")
    parts.append(f"<p><b>Reproduce:</b> <code>{e(section.command)}</code></p>")
    parts.append("</section>")
    return "\n".join(parts)


def render_report(out_dir: str | os.PathLike, sections: list[SectionReport], title: str = "scratchgen: the tour",
                  intro: str = "") -> str:
    """The report's HTML for ``sections`` (in their order), linking the figures that exist under ``out_dir``."""
    out_dir = Path(out_dir)
    e = html.escape
    toc = "".join(f'<li><a href="#{_anchor(s.key)}">{e(s.title)}</a> ({e(s.status)})</li>' for s in sections)
    body = "\n".join(_render_section(i, s, out_dir) for i, s in enumerate(sections, 1))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{e(title)}</title>\n'
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{e(title)}</h1>\n"
            + (f"<p>{e(intro)}</p>\n" if intro else "")
            + f"<nav><ol>{toc}</ol></nav>\n{body}\n</body>\n</html>\n")


def _plain(value: Any) -> Any:
    """A NumPy scalar among the numbers, as the Python number JSON knows."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in {RESULTS_NAME}")


def _write_text(path: Path, text: str) -> None:
    """Write to a temporary name beside ``path``, then rename: a Ctrl-C never leaves half a report."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_report(out_dir: str | os.PathLike, sections: list[SectionReport], title: str = "scratchgen: the tour",
                 intro: str = "") -> Path:
    """Write ``out_dir/index.html`` (and the sections as ``out_dir/tour.json``); return the report's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    _write_text(path, render_report(out_dir, sections, title, intro))
    _write_text(out_dir / RESULTS_NAME, json.dumps([asdict(s) for s in sections], indent=1, default=_plain))
    return path


def load_results(out_dir: str | os.PathLike) -> dict[str, SectionReport]:
    """The sections of an earlier report in ``out_dir`` by key (empty when there is none or it is unreadable)."""
    path = Path(out_dir) / RESULTS_NAME
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(SectionReport)}
        sections = [SectionReport(**{k: v for k, v in entry.items() if k in known}) for entry in entries]
    except (OSError, ValueError, TypeError, AttributeError):  # absent, or from another version: start afresh
        return {}
    return {s.key: s for s in sections}
