"""GX Data Docs read offline (docs/definitions.md#data-docs-offline).

`assert_self_contained` is run on a real validation run's pages by
tests/test_validate.py (test_clean_data_passes_with_warnings_and_exact_counts); the test
here pins the rewriting rules on a page shaped like GX's.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from onboard.validate.offline_docs import offline_page

#: tags whose src / href the browser fetches or follows
FETCHED = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src", "source": "src"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is not None and (FETCHED.get(tag) == name or name == "style"):
                (self.styles if name == "style" else self.references).append((tag, value))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(("style", data))


def references(page: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(tag, src or href) of every fetched or followed reference, and every stylesheet text."""
    parser = _References()
    parser.feed(page)
    return parser.references, [text for _, text in parser.styles]


def assert_self_contained(folder: Path) -> int:
    """Every HTML page in folder: nothing from the network, every relative link a file there."""
    pages = sorted(folder.glob("*.html"))
    assert pages, f"no HTML pages in {folder}"
    for page in pages:
        found, styles = references(page.read_text())
        for tag, value in found:
            assert not re.match(r"(?i)(https?:)?//", value), f"{page.name}: <{tag}> {value}"
            if not value.startswith("#"):
                assert (folder / value).is_file(), f"{page.name}: <{tag}> {value} is not in {folder}"
        for text in styles:
            assert not re.search(r"(?i)url\(\s*['\"]?(https?:)?//", text), f"{page.name}: {text[:80]}"
    return len(pages)


GX_LIKE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<style>.navbar-brand a { background: url('https://example.org/logo_dark.png') 0 0 no-repeat; }</style>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<link rel="shortcut icon" href="../../../static/images/favicon.ico" type="image/x-icon"/>
</head><body>
<a href="../../../../index.html"><img class="NO-CACHE" src="https://assets.example/logo.png?d=1"
  alt="Great Expectations" style="height: 50px"/></a>
<script>$(".ge-walkthrough-modal").modal();</script>
<span>Suite: <a href="../../../../expectations/signup_completed.html" >signup_completed</a></span>
<a href="#section-2">invitee_email</a> <a href="accounts.html">accounts</a>
<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed
<footer><p>newsletter <a href="https://example.org/newsletter">Subscribe</a></p></footer>
</body></html>"""


def test_a_gx_page_keeps_its_content_and_loses_everything_outside_the_folder(tmp_path: Path):
    page = offline_page(GX_LIKE, {"index.html", "signup_completed.html", "accounts.html"})
    found, styles = references(page)
    assert found == [("a", "index.html"), ("a", "#section-2"), ("a", "accounts.html")]
    assert "<script" not in page and "<link" not in page and "<footer" not in page
    # the logo becomes its alt text inside the home link; the suite's missing page leaves its name
    assert '<a href="index.html">Great Expectations</a>' in page
    assert "<span>Suite: signup_completed</span>" in page
    assert '<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed' in page
    assert ".navbar-brand a { background: none 0 0 no-repeat; }" in styles
    assert '.fa-times::before{content:"\\2718"}' in styles[-1]
    for name in ("page.html", "index.html", "accounts.html"):
        (tmp_path / name).write_text(page)
    assert assert_self_contained(tmp_path) == 3
    (tmp_path / "gx.html").write_text(GX_LIKE)
    with pytest.raises(AssertionError, match=r"gx\.html: <link> https://maxcdn\.bootstrapcdn\.com"):
        assert_self_contained(tmp_path)
