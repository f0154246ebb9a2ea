"""The situation report for a committee meeting: ``borderflow report`` and the dashboard's button.

:func:`render_report` reads a run or ensemble folder, writes the report in the chosen language
and format, and records its headline (``report.json`` beside it) so that the next report can say
what changed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from borderflow.i18n import check_language
from borderflow.report.situation.data import (
    REPORT_JSON,
    load_situation,
    read_comparison,
    read_previous,
)

FORMATS = ("pdf", "html")


@dataclass(frozen=True)
class Report:
    content: bytes
    media_type: str
    filename: str
    headline: dict[str, float]


def build_report(
    folder: Path, lang: str = "en", fmt: str = "pdf", today: dt.date | None = None,
    previous: Path | None = None, compare: Path | None = None,
) -> Report:  # fmt: skip
    """The report's bytes.

    ``previous``: the report.json to say what changed against (default: the folder's);
    ``compare``: a ``borderflow compare`` folder or compare.csv (default: one in the folder).
    """
    from borderflow.errors import ScenarioError
    from borderflow.report.situation.content import report_text
    from borderflow.report.situation.render import html_text, pdf_bytes

    check_language(lang)
    if fmt not in FORMATS:
        raise ScenarioError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    data = load_situation(folder)
    data.previous = read_previous(previous or folder / REPORT_JSON)
    if compare is not None:
        if not compare.exists():
            raise ScenarioError(f"--compare {compare}: no such file or folder")
        data.comparison = read_comparison(compare)
    text = report_text(data, lang, today or dt.date.today())
    if fmt == "pdf":
        content, media = pdf_bytes(data, text), "application/pdf"
    else:
        content, media = html_text(data, text).encode("utf-8"), "text/html"
    name = f"situation-report-{data.case_name}-{lang}.{fmt}"
    return Report(content, media, name, data.headline_json())


def headline_record(report: Report, lang: str) -> str:
    """report.json: the headline figures the next report compares against."""
    return json.dumps({"lang": lang, "headline": report.headline}, indent=2)
