"""Renders report content as Markdown (figures linked) and as one self-contained HTML page.

The HTML page embeds every figure as a base64 PNG ``data:`` URI and its CSS inline; it loads
nothing else (its Content-Security-Policy forbids it), so it works offline and can be mailed.
"""
from __future__ import annotations

import base64
import dataclasses
import html
from pathlib import Path
from typing import Sequence

import pandas as pd


@dataclasses.dataclass(frozen=True)
class FigureEntry:
    """One figure of the report: its name, title, caption and PNG file."""

    name: str
    title: str
    caption: str
    png: Path


@dataclasses.dataclass(frozen=True)
class Section:
    """A table section: id, heading, an intro sentence, the table (display strings) and a
    sentence for when the table is empty."""

    id: str
    heading: str
    intro: str
    table: pd.DataFrame
    empty: str = ""


@dataclasses.dataclass(frozen=True)
class ReportContent:
    """Everything the report shows, already computed and formatted."""

    title: str
    run_info: Sequence[tuple[str, str]]
    spec_yaml: str
    findings: Sequence[tuple[str, Sequence[str]]]
    figures: Sequence[FigureEntry]
    sections: Sequence[Section]
    skipped: Sequence[tuple[str, str]]
    notes: Sequence[str] = ()


SECTION_IDS = ("run", "findings", "figures", "summary", "curves", "failed", "skipped")

# ---------------------------------------------------------------------------------------------
# Markdown


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured pipe table of a DataFrame's display strings."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(_md_escape(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_md_escape(v) for v in row) + " |")
    return "\n".join(lines)


def to_markdown(content: ReportContent, *, figures_dir: str = "figures") -> str:
    """The report as Markdown; figures are linked as ``figures/<name>.png`` (relative)."""
    out = [f"# {content.title}", "", "## What was run", ""]
    out += [f"- **{k}:** {v}" for k, v in content.run_info]
    out += ["", "<details><summary>Resolved study (study.yaml)</summary>", "", "```yaml",
            content.spec_yaml.rstrip(), "```", "", "</details>", "", "## Key findings", ""]
    if content.findings:
        for heading, sentences in content.findings:
            out += [f"**{heading}**", ""] + [f"- {s}" for s in sentences] + [""]
    else:
        out += ["No findings: the study has no completed runs to compare.", ""]
    out += [f"_{n}_" for n in content.notes] + ([""] if content.notes else [])
    out += ["## Figures", ""]
    for fig in content.figures:
        out += [f"### {fig.title}", "", f"![{fig.title}]({figures_dir}/{fig.png.name})", "", fig.caption, ""]
    if not content.figures:
        out += ["No figures.", ""]
    for section in content.sections:
        out += [f"## {section.heading}", ""]
        if section.table.empty:
            out += [section.empty or "None.", ""]
        else:
            out += ([section.intro, ""] if section.intro else []) + [markdown_table(section.table), ""]
    if content.skipped:
        out += ["## Figures not made", ""] + [f"- `{name}`: {reason}" for name, reason in content.skipped] + [""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
:root { --ink: #1d2330; --muted: #5b6474; --line: #d9dee7; --band: #f4f6fa; --accent: #0173b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 2rem; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.45rem; margin: 1.8em 0 0.6em; padding-bottom: 0.2em; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.15rem; margin: 1.2em 0 0.4em; }
nav { font-size: 0.95rem; color: var(--muted); }
nav a { color: var(--accent); text-decoration: none; margin-right: 1em; }
dl.info { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.info dt { font-weight: 600; color: var(--muted); }
dl.info dd { margin: 0; }
details { margin: 1em 0; }
summary { cursor: pointer; color: var(--accent); }
pre { background: var(--band); padding: 12px 14px; border-radius: 6px; overflow-x: auto; font-size: 0.85rem; }
ul.findings li { margin: 0.35em 0; }
figure { margin: 1.4em 0 2.2em; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.95rem; margin-top: 0.5em; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.86rem; margin: 0.6em 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; white-space: nowrap; }
th { background: var(--band); white-space: normal; vertical-align: bottom; min-width: 5em; }
td.wrap { white-space: normal; max-width: 15em; }
td.reason { white-space: normal; min-width: 24em; }
p.note { color: var(--muted); font-size: 0.95rem; }
"""

# Nothing may load from anywhere: images are data: URIs, the style is inline, there is no script.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


# Columns whose long labels may wrap, so that wide tables still fit the page.
_CELL_CLASS = {"reason": "reason", "augmentation": "wrap"}


def _breakable(text) -> str:
    """Escaped text that may break after ``[`` and ``,`` (labels like ``geometric[shift=3,rotate=15]``)."""
    return _e(text).replace(",", ",<wbr>").replace("[", "[<wbr>")


def html_table(table: pd.DataFrame) -> str:
    """An escaped HTML table of a DataFrame's display strings."""
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = "".join(f'<td class="{_CELL_CLASS[col]}">{_breakable(v)}</td>' if col in _CELL_CLASS
                        else f"<td>{_e(v)}</td>" for col, v in zip(table.columns, row))
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def png_data_uri(path: Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def to_html(content: ReportContent) -> str:
    """The report as one self-contained HTML page (figures embedded as base64 PNG)."""
    parts = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(content.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>", "<main>",
             f"<h1>{_e(content.title)}</h1>"]
    nav = [("run", "What was run"), ("findings", "Key findings"), ("figures", "Figures")]
    nav += [(s.id, s.heading) for s in content.sections]
    if content.skipped:
        nav.append(("skipped", "Figures not made"))
    parts.append("<nav>" + "".join(f'<a href="#{i}">{_e(t)}</a>' for i, t in nav) + "</nav>")

    parts.append('<section id="run"><h2>What was run</h2><dl class="info">')
    parts += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in content.run_info]
    parts.append("</dl>")
    parts.append(f"<details><summary>Resolved study (study.yaml)</summary><pre>{_e(content.spec_yaml)}</pre>"
                 "</details></section>")

    parts.append('<section id="findings"><h2>Key findings</h2>')
    if content.findings:
        for heading, sentences in content.findings:
            parts.append(f"<h3>{_e(heading)}</h3><ul class=\"findings\">")
            parts += [f"<li>{_e(s)}</li>" for s in sentences]
            parts.append("</ul>")
    else:
        parts.append("<p>No findings: the study has no completed runs to compare.</p>")
    parts += [f'<p class="note">{_e(n)}</p>' for n in content.notes]
    parts.append("</section>")

    parts.append('<section id="figures"><h2>Figures</h2>')
    for fig in content.figures:
        parts.append(f'<figure id="fig-{_e(fig.name)}"><h3>{_e(fig.title)}</h3>'
                     f'<img src="{png_data_uri(fig.png)}" alt="{_e(fig.title)}">'
                     f"<figcaption>{_e(fig.caption)}</figcaption></figure>")
    if not content.figures:
        parts.append("<p>No figures.</p>")
    parts.append("</section>")

    for section in content.sections:
        parts.append(f'<section id="{_e(section.id)}"><h2>{_e(section.heading)}</h2>')
        if section.table.empty:
            parts.append(f"<p>{_e(section.empty or 'None.')}</p>")
        else:
            if section.intro:
                parts.append(f"<p>{_e(section.intro)}</p>")
            parts.append(html_table(section.table))
        parts.append("</section>")
    if content.skipped:
        parts.append('<section id="skipped"><h2>Figures not made</h2><ul>')
        parts += [f"<li><code>{_e(n)}</code>: {_e(r)}</li>" for n, r in content.skipped]
        parts.append("</ul></section>")
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
