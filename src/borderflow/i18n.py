"""Spanish and English for every user-visible string: one gettext catalog, Babel's formats.

The English text is the message id (so English needs no catalog); Spanish lives in
``locale/es/LC_MESSAGES/borderflow.po``, read with Babel at first use. The same catalog serves
the command line, the plots, the situation report and the dashboard (as JSON through the API),
so a phrase is translated once. Placeholders are ``{name}`` in Python and JavaScript alike.
Numbers and dates are formatted with Babel's CLDR data for the chosen language; place names
are never translated (they stay as the case spells them).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "borderflow"


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark a string for translation where it is defined; it is translated where shown."""
    return message


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`; a ScenarioError (exit 2) otherwise."""
    from borderflow.errors import ScenarioError

    if lang not in LANGUAGES:
        raise ScenarioError(f"--lang {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return lang


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Message id → translation for ``lang`` (empty for English and untranslated ids)."""
    if lang == DEFAULT_LANGUAGE:
        return {}
    from babel.messages.pofile import read_po

    with po_path(check_language(lang)).open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    return {m.id: m.string for m in po if m.id and isinstance(m.id, str) and m.string}


Translator = Callable[..., str]


def translator(lang: str) -> Translator:
    """``T(message, **values)``: the translation of ``message`` with ``{name}`` filled in."""
    table = catalog(check_language(lang))

    def translate(message: str, **values: object) -> str:
        text = table.get(message, message)
        return text.format(**values) if values else text

    return translate


def fmt_number(value: float, lang: str, digits: int = 0) -> str:
    """A count with the language's digit grouping and decimal sign (n/a when not finite)."""
    from babel.numbers import format_decimal

    if not math.isfinite(value):
        T = translator(lang)
        return T("n/a")
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(round(value, digits), format=pattern, locale=lang)


def fmt_signed(value: float, lang: str) -> str:
    """A whole change with its sign (+1,234 / -56 / +0), grouped as the language groups."""
    from babel import Locale

    group = Locale.parse(lang).number_symbols["latn"]["group"]
    return f"{value:+,.0f}".replace(",", group)


def fmt_date(value: dt.date, lang: str, style: str = "medium") -> str:
    from babel.dates import format_date

    return format_date(value, format=style, locale=lang)


def fmt_datetime(value: dt.datetime, lang: str) -> str:
    from babel.dates import format_datetime

    return format_datetime(value, format="medium", locale=lang)


def js_catalog(lang: str) -> dict[str, object]:
    """The dashboard's catalog: the language, its number/date conventions and its messages."""
    from babel import Locale

    loc = Locale.parse(check_language(lang))
    return {
        "lang": lang,
        "decimal": loc.number_symbols["latn"]["decimal"],
        "group": loc.number_symbols["latn"]["group"],
        "messages": catalog(lang),
    }
