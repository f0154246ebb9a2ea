"""Spanish and English: every user-visible string has a translation, formats follow the language."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from border_factory import write_case
from borderflow.errors import ScenarioError
from borderflow.i18n import catalog, check_language, fmt_date, fmt_number, js_catalog, translator
from borderflow.i18n_sources import (
    WEB_STATIC,
    all_messages,
    html_messages,
    js_calls_without_literal,
    unmarked_html,
)
from borderflow.report.plots.run import plot_flows, plot_stranded
from borderflow.results.series import read_parquet
from borderflow.runs import run_border
from borderflow.scenario.border_io import read_border_case

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_user_visible_string_has_a_spanish_translation():
    spanish = catalog("es")
    missing = [f"{where}: {msg!r}" for msg, where in all_messages().items() if msg not in spanish]
    assert not missing, "no Spanish translation (run `python -m borderflow.i18n_sources`):\n" + (
        "\n".join(missing)
    )


def test_the_catalog_holds_no_unused_message_and_keeps_the_placeholders():
    used = all_messages()
    spanish = catalog("es")
    assert sorted(set(spanish) - set(used)) == []
    for msg, text in spanish.items():
        assert sorted(PLACEHOLDER.findall(msg)) == sorted(PLACEHOLDER.findall(text)), msg


def test_every_javascript_message_is_a_literal_the_test_can_read():
    assert js_calls_without_literal() == []


def test_the_extractor_sees_python_javascript_and_html():
    found = all_messages()
    assert found["Headline figures"].startswith("report/situation/content.py")  # T(...)
    assert found["peak stranded (evening count)"].startswith("report/summary.py")  # N_(...)
    assert found["Log out"].startswith("web/static/app.js")  # t(...) in JavaScript
    # after a template literal with quotes inside (where Babel's JavaScript lexer gets lost)
    assert found["Row (line in the file)"].startswith("web/static/upload.js")
    assert html_messages()["Needs at the peak"] == "situation.html"  # data-i18n


def test_every_text_of_every_dashboard_page_is_marked_for_translation(tmp_path):
    pages = sorted(WEB_STATIC.glob("*.html"))
    assert {p.name for p in pages} >= {"map.html", "situation.html"}
    for page in pages:
        assert unmarked_html(page) == [], page.name
    assert html_messages()["Map of the route graph"] == "map.html"  # data-i18n-attrs
    assert html_messages()["Map · borderflow"] == "map.html"  # the page's title
    # the check itself: English left unmarked, in a text or a visible attribute, is caught
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<main><h1 data-i18n>Route map</h1><p>Day <code>#date</code></p>"
        '<div aria-label="Map" data-i18n-attrs="title"></div><script>var a = "x";</script></main>'
    )
    assert unmarked_html(bad) == ["Day", "Map"]


def test_translator_fills_placeholders_and_rejects_unknown_languages():
    assert translator("es")("{n} stored observations", n=3) == "3 observaciones almacenadas"
    assert translator("en")("{n} stored observations", n=3) == "3 stored observations"
    assert translator("es")("not in the catalog") == "not in the catalog"
    assert check_language("es") == "es"
    with pytest.raises(ScenarioError, match="--lang 'fr'"):
        check_language("fr")


def test_numbers_and_dates_follow_the_language():
    assert fmt_number(12345.4, "en") == "12,345"
    assert fmt_number(12345.4, "es") == "12.345"
    assert fmt_number(2.5, "es", 2) == "2,50"
    assert fmt_number(float("nan"), "es") == "n/d"
    assert fmt_date(dt.date(2025, 11, 28), "es") == "28 nov 2025"
    assert fmt_date(dt.date(2025, 11, 28), "en") == "Nov 28, 2025"
    js = js_catalog("es")
    assert (js["decimal"], js["group"]) == (",", ".")
    assert js["messages"]["Log out"] == "Cerrar sesión"
    assert js_catalog("en")["messages"] == {}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("i18n")
    case_dir = write_case(root / "case", stock=800, hazard=0.03, end="2025-01-20",
                          origin="2025-01-08")  # fmt: skip
    return case_dir, root


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def test_run_charts_in_spanish_show_no_english_message(small_run):
    case_dir, root = small_run
    run_border(case_dir, seed=1, out_dir=root / "run", plots=False)
    table = read_parquet(root / "run" / "series.parquet")
    case = read_border_case(case_dir)
    english = set(catalog("es"))
    for draw in (plot_stranded, plot_flows):
        texts = _texts(draw(table, case, "es"))
        assert "Personas varadas entre los puestos fronterizos cada noche" in texts or any(
            "Pasos fronterizos" in t for t in texts
        )
        assert not [t for t in texts if t in english], texts
        assert any(t.startswith("Fecha (") for t in texts)


def test_the_run_summary_in_spanish(small_run):
    case_dir, root = small_run
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "run", str(case_dir), "--lang", "es", "--no-plots",
         "--out", str(root / "es")],
        capture_output=True, text=True, env=_env(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "máximo de varados (conteo nocturno)" in res.stdout
    assert "necesidades en el máximo" in res.stdout
    assert "personas en riesgo simuladas" in res.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "borderflow", "run", str(case_dir), "--lang", "fr"],
        capture_output=True, text=True, env=_env(),
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --lang 'fr': choose one of en, es"


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "COLUMNS": "200"}


def test_spanish_charts_are_deterministic_and_the_fan_is_translated(small_run, tmp_path):
    import io

    import pyarrow as pa

    from borderflow.report.plots.common import save_png
    from borderflow.report.plots.ensemble import plot_fan

    case_dir, root = small_run
    if not (root / "run" / "series.parquet").exists():
        run_border(case_dir, seed=1, out_dir=root / "run", plots=False)
    table = read_parquet(root / "run" / "series.parquet")
    case = read_border_case(case_dir)

    def png(fig) -> bytes:
        buffer = io.BytesIO()
        save_png(fig, buffer)
        return buffer.getvalue()

    assert png(plot_stranded(table, case, "es")) == png(plot_stranded(table, case, "es"))
    assert png(plot_stranded(table, case, "es")) != png(plot_stranded(table, case, "en"))
    value = table.column("value")
    bands = table
    for q in ("q05", "q25", "q50", "q75", "q95"):
        bands = bands.append_column(q, pa.array(value.to_numpy(), pa.float64()))
    paths = [tmp_path / f"fan-{k}.png" for k in ("es1", "es2", "en")]
    for path, lang in zip(paths, ("es", "es", "en"), strict=True):
        plot_fan(bands, case, path, 3, lang)
    assert paths[0].read_bytes() == paths[1].read_bytes() != paths[2].read_bytes()


def test_compare_prints_and_draws_in_spanish(small_run):
    case_dir, root = small_run
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "compare", str(case_dir), "default", "default",
         "--lang", "es", "--out", str(root / "cmp-es")],
        capture_output=True, text=True, env=_env(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "variantes con los mismos números aleatorios (semilla 0)" in res.stdout
    assert "default (referencia)" in res.stdout and "máximo de varados" in res.stdout
    assert "escrito:" in res.stdout and (root / "cmp-es" / "compare.png").stat().st_size > 0
    for command in ("compare", "ensemble", "sensitivity", "calibrate", "backtest"):
        args = [str(case_dir), "default", "default"] if command == "compare" else [str(case_dir)]
        bad = subprocess.run(
            [sys.executable, "-m", "borderflow", command, *args, "--lang", "fr",
             "--out", str(root / f"never-{command}")],
            capture_output=True, text=True, env=_env(),
        )  # fmt: skip
        assert bad.returncode == 2, (command, bad.stderr)
        assert bad.stderr.strip() == "error: --lang 'fr': choose one of en, es", command
        assert not (root / f"never-{command}").exists()
