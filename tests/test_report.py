"""The situation report: both languages, the headline numbers on the rendered pages, the CLI.

The PDF's pages are turned into PNG and text with pypdfium2 (a test dependency in
pyproject.toml); the files go to ``test-artifacts/reports/`` for people to look at.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from borderflow.ensemble import runner
from borderflow.ensemble.runner import run_ensemble
from borderflow.execute import serial_executor
from borderflow.i18n import fmt_number
from borderflow.report.situation import build_report
from borderflow.report.situation import data as situation_data
from borderflow.report.situation.data import ALL_CROSSINGS, load_situation
from borderflow.runs import run_border
from borderflow.scenario.locate import resolve_scenario

CASE = resolve_scenario("chile-peru-2025")
TODAY = dt.date(2025, 12, 1)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"
TITLE = {"en": "Situation report", "es": "Informe de situación"}
HEADINGS = {
    "en": ("Headline figures", "Needs", "What changed since the last report", "All crossings"),
    "es": ("Cifras principales", "Necesidades", "Qué cambió desde el último informe",
           "Todos los pasos"),
}  # fmt: skip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run_ensemble(CASE, CASE / "uncertain.toml", root / "ens", members=3, seed=4,
                 executor=serial_executor())  # fmt: skip
    run_border(CASE, seed=2, out_dir=root / "run", plots=False)
    return root / "ens", root / "run"


def _pages(pdf: bytes, stem: str) -> list[str]:
    """Every page as PNG under test-artifacts/reports/ (checked not blank) and its text."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (a test dependency) missing")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{stem}.pdf").write_bytes(pdf)
    doc = pdfium.PdfDocument(pdf)
    texts = []
    for i in range(len(doc)):
        image = doc[i].render(scale=1.5).to_pil()
        image.save(ARTIFACTS / f"{stem}-page{i + 1}.png")
        pixels = np.asarray(image.convert("L"))
        assert (pixels < 128).mean() > 0.005, f"page {i + 1} is blank"
        texts.append(doc[i].get_textpage().get_text_range())
    return texts


def test_the_names_of_an_ensemble_folder_agree_with_the_runner():
    assert (situation_data.MANIFEST, situation_data.MEMBERS_DIR, situation_data.BANDS) == (
        runner.MANIFEST, runner.MEMBERS_DIR, runner.BANDS)  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_ensemble_report_shows_its_headline_numbers_in_each_language(folders, lang):
    ens, _ = folders
    made = build_report(ens, lang, "pdf", TODAY)
    pages = _pages(made.content, f"situation-report-ensemble-{lang}")
    assert 1 <= len(pages) <= 2
    text = " ".join(" ".join(p.split()) for p in pages)
    assert TITLE[lang] in text
    for heading in HEADINGS[lang]:
        assert heading in text
    data = load_situation(ens)
    for key in ("peak_stranded", "person_days_stranded", "crossed"):
        f = data.headline[(key, ALL_CROSSINGS)]
        expected = (
            f"{fmt_number(f.mid, lang)} ({fmt_number(f.low, lang)}–{fmt_number(f.high, lang)})"
        )
        assert expected in text, (key, expected)
    big = data.headline[("person_days_stranded", ALL_CROSSINGS)].mid
    assert big >= 1000  # so that the grouping below is really tested
    assert fmt_number(big, lang) in text and ("." if lang == "es" else ",") in fmt_number(big, lang)
    for crossing in data.crossings:  # place names as in the case, in both languages
        assert crossing in text
    assert "Mediana de 3 miembros" in text if lang == "es" else "Median over 3 ensemble" in text


def test_the_same_folder_and_day_give_the_same_bytes(folders):
    ens, run = folders
    for folder in (ens, run):
        for fmt in ("pdf", "html"):
            a = build_report(folder, "es", fmt, TODAY).content
            assert a == build_report(folder, "es", fmt, TODAY).content


def test_a_single_run_has_no_range_and_the_html_says_the_same(folders):
    _, run = folders
    html = build_report(run, "en", "html", TODAY).content.decode()
    data = load_situation(run)
    peak = data.headline[("peak_stranded", ALL_CROSSINGS)]
    assert peak.low == peak.mid == peak.high
    assert f"<td>{fmt_number(peak.mid, 'en')}</td>" in html
    assert "A single run: one trajectory, so no range." in html
    assert "data:image/png;base64," in html


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "borderflow", "report", *args],
                          capture_output=True, text=True, env=env)  # fmt: skip


def test_the_command_writes_the_report_and_says_what_changed_next_time(folders, tmp_path):
    ens, _ = folders
    out = tmp_path / "meeting" / "report-es.html"
    out.parent.mkdir()
    first = _cli(str(ens), "--lang", "es", "--format", "html", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "Este es el primer informe." in out.read_text()
    record = json.loads((out.parent / "report.json").read_text())
    key = f"peak_stranded|{ALL_CROSSINGS}"
    assert (
        record["headline"][key]
        == load_situation(ens).headline[("peak_stranded", ALL_CROSSINGS)].mid
    )
    record["headline"][key] += 1500  # the last report said more people were stranded
    (out.parent / "report.json").write_text(json.dumps(record))
    second = _cli(str(ens), "--lang", "es", "--format", "html", "--out", str(out))
    assert second.returncode == 0, second.stderr
    page = out.read_text()
    assert "Qué cambió desde el último informe" in page
    assert f"<td>{fmt_number(-1500, 'es')}</td>" in page


def test_bad_input_is_one_line_and_exit_2_with_nothing_written(folders, tmp_path):
    ens, _ = folders
    cases = [
        ((str(ens), "--lang", "fr", "--out", str(tmp_path / "a.pdf")), "--lang 'fr'"),
        ((str(ens), "--format", "docx", "--out", str(tmp_path / "a.pdf")), "--format 'docx'"),
        ((str(tmp_path),), "neither a run folder"),
        ((str(tmp_path / "nowhere"),), "no such folder"),
        ((str(ens), "--compare", str(tmp_path / "none"), "--out", str(tmp_path / "a.pdf")),
         "no such file or folder"),
    ]  # fmt: skip
    for args, words in cases:
        res = _cli(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert words in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_policy_comparison_is_included_from_a_compare_folder(folders, tmp_path):
    _, run = folders
    (tmp_path / "compare.csv").write_text(
        "metric,crossing,variant,value,difference\n"
        "#indicator+name,#loc+name,#meta+variant,#indicator+num,#indicator+num+diff\n"
        "peak stranded,Chacalluta-Santa Rosa,peru_policy=documented_only,1234,0\n"
        "peak stranded,Chacalluta-Santa Rosa,peru_policy=corridor,34,-1200\n"
        "crossed regularly,Chacalluta-Santa Rosa,peru_policy=corridor,5,1\n",
        encoding="utf-8",
    )
    page = build_report(run, "es", "html", TODAY, compare=tmp_path).content.decode()
    assert "Comparación de políticas" in page
    assert "<td>peru_policy=corridor</td><td>34</td><td>-1.200</td>" in page
    assert "<td>1.234</td>" in page
    assert "crossed regularly" not in page  # only the figures the committee asks for
    english = build_report(run, "en", "html", TODAY, compare=tmp_path).content.decode()
    assert "<td>-1,200</td>" in english and "Policy comparison" in english
