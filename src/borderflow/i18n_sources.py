"""Find every user-visible string in the sources, for the catalog and its coverage test.

Python: the arguments of ``T(...)`` and ``N_(...)`` (Babel's extractor); the dashboard's
JavaScript: the string literal opening each ``t(...)`` call (a regular expression: Babel's
JavaScript lexer loses its way after a template literal with quotes inside, and every call
must open with a literal, which :func:`js_calls_without_literal` checks); its HTML: the text of
elements marked ``data-i18n``.
``python -m borderflow.i18n_sources`` adds the missing ids (untranslated) to the Spanish catalog.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from borderflow.i18n import DOMAIN, po_path

ROOT = Path(__file__).parent
PYTHON_SOURCES = (
    "i18n.py", "report/situation", "report/summary.py", "report/plots", "cli/report.py",
    "results/headline.py", "results/observed.py", "cli/compare.py", "cli/ensemble.py",
    "cli/authoring.py", "calibrate/outcomes.py",
)  # fmt: skip
WEB_STATIC = ROOT / "web" / "static"
JS_CALL = re.compile(r"(?<![\w.$])t\(")
JS_LITERAL = re.compile(r'\s*"((?:[^"\\\n]|\\.)*)"')


def python_files() -> list[Path]:
    files: list[Path] = []
    for rel in PYTHON_SOURCES:
        path = ROOT / rel
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def _extract(files: list[Path], method: str, keywords: dict) -> dict[str, str]:
    from babel.messages.extract import extract

    found: dict[str, str] = {}
    for path in files:
        with path.open("rb") as handle:
            for lineno, message, _comments, _ctx in extract(method, handle, keywords=keywords):
                if isinstance(message, str) and message:
                    found.setdefault(message, f"{path.relative_to(ROOT)}:{lineno}")
    return found


VISIBLE_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
VOID = frozenset({"meta", "link", "input", "br", "img", "hr", "source", "area", "col", "wbr"})
AS_IS = frozenset({"borderflow", "–", "·"})  # texts that are the same in every language


class _Marked(HTMLParser):
    """Collects the texts of elements marked ``data-i18n`` and of attributes in ``data-i18n-attrs``.

    And, in ``unmarked``, every other text or visible attribute, so that no English of a page
    is shown to a Spanish reader unnoticed (code, punctuation and the brand stay as they are).
    """

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.found: list[str] = []
        self.unmarked: list[str] = []
        self.open: list[str] = []  # the elements around the text (scripts and styles hold code)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        named = dict(attrs)
        marked = (named.get("data-i18n-attrs") or "").split()
        for attr in VISIBLE_ATTRIBUTES:
            if named.get(attr):
                (self.found if attr in marked else self.unmarked).append(named[attr])
        if tag in VOID:
            return
        self.open.append(tag)
        if self.depth:
            self.depth += 1
        elif "data-i18n" in named:
            self.depth, self.text = 1, []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append(" ".join("".join(self.text).split()))

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)
        elif re.search(r"\w", data) and not {"script", "style", "code"} & set(self.open):
            text = " ".join(data.split())
            if text not in AS_IS:
                self.unmarked.append(text)


def unmarked_html(path: Path) -> list[str]:
    """The texts and visible attributes of a page that no data-i18n marks for translation."""
    parser = _Marked()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.unmarked


def html_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(WEB_STATIC.glob("*.html")):
        parser = _Marked()
        parser.feed(path.read_text(encoding="utf-8"))
        for text in parser.found:
            found.setdefault(text, path.name)
    return found


def js_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(WEB_STATIC.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for call in JS_CALL.finditer(text):
            literal = JS_LITERAL.match(text, call.end())
            if literal:
                line = text.count("\n", 0, call.start()) + 1
                found.setdefault(
                    json.loads(f'"{literal.group(1)}"'), f"web/static/{path.name}:{line}"
                )
    return found


def js_calls_without_literal() -> list[str]:
    """``t(...)`` calls whose message is not a string literal: no test could see them."""
    bad = []
    for path in sorted(WEB_STATIC.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for call in JS_CALL.finditer(text):
            before = text[max(0, call.start() - 9) : call.start()]
            line_end = text.find("\n", call.end())
            exempt = "// i18n-ok" in text[call.end() : line_end] or before.endswith("function ")
            if not JS_LITERAL.match(text, call.end()) and not exempt:
                bad.append(f"{path.name}:{text.count(chr(10), 0, call.start()) + 1}")
    return bad


def all_messages() -> dict[str, str]:
    """Message id → where it is first used, over Python, JavaScript and HTML."""
    found = _extract(python_files(), "python", {"T": None, "N_": None})
    for k, v in js_messages().items():
        found.setdefault(k, v)
    for k, v in html_messages().items():
        found.setdefault(k, v)
    return found


def update_catalog(lang: str = "es") -> int:
    """Add missing ids to ``lang``'s catalog (untranslated) and drop unused ones.

    Returns how many were added.
    """
    from babel.messages.pofile import read_po, write_po

    path = po_path(lang)
    with path.open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    added = 0
    used = all_messages()
    for message in [m.id for m in po if m.id and m.id not in used]:
        del po[message]
    for message, where in used.items():
        if message not in po:
            po.add(message, "", locations=[(where, 0)])
            added += 1
    with path.open("wb") as handle:
        write_po(handle, po, width=100, omit_header=False, include_lineno=False)
    return added


if __name__ == "__main__":
    print(f"{update_catalog(*sys.argv[1:])} new messages")
