"""Self-contained GX Data Docs pages: a run's folder reads offline (docs/definitions.md#data-docs-offline).

GX writes each page for its own Data Docs site: Bootstrap, Font Awesome, jQuery and Vega from
CDNs, a logo and a newsletter footer from its website, and links to an index, a static
folder and expectation-suite pages that a run's folder does not have. `offline_page` keeps
GX's content and inline styles and drops the rest: every external stylesheet, script, font
and image; scripts altogether (they all need jQuery); links that lead outside the folder
(the text stays; GX's "home" goes to the run's index.html). A small stylesheet of ours stands
in for Bootstrap, and plain characters for Font Awesome's icons.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from posixpath import normpath

#: Bootstrap's layout and colours as far as GX's validation pages use them, and the icons
STYLESHEET = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#212529;
line-height:1.45;font-size:15px}
a{color:#0d6efd}
.navbar{display:flex;align-items:center;gap:1rem;padding:.5rem 2rem;border-bottom:1px solid #dee2e6;
background:#fff}
.navbar-brand a{font-weight:600;text-decoration:none}
.breadcrumb{display:flex;flex-wrap:wrap;list-style:none;margin:0;padding:0}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding:0 .5rem;color:#6c757d}
.container-fluid{padding:1rem 2rem}
.row{display:flex;flex-wrap:wrap;margin:0}
.col-12,.col-xs-12,.col-sm-12{flex:0 0 100%;max-width:100%;box-sizing:border-box}
.col-6{flex:0 0 50%;max-width:50%;box-sizing:border-box}
.col-md-2{flex:0 0 18%;max-width:18%;box-sizing:border-box;padding-right:1rem}
.col-md-10{flex:0 0 82%;max-width:82%;box-sizing:border-box}
@media (max-width:900px){.col-md-2,.col-md-10,.col-6{flex:0 0 100%;max-width:100%}}
.card{border:1px solid #dee2e6;border-radius:6px;margin-bottom:1rem}
.card-header{background:#f8f9fa;padding:.4rem .6rem;border-bottom:1px solid #dee2e6}
.nav{list-style:none;margin:0;padding:.3rem .6rem}
.nav-link{display:block;padding:.15rem 0;text-decoration:none}
.alert-secondary{background:#e9ecef;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}
h5,h6,.h6{margin:.2rem 0;font-weight:600}
.lead{color:#495057}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
td,th{border:1px solid #dee2e6;padding:.3rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f8f9fa}
code,pre,.code-snippet{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;
background:#f1f3f5;padding:0 .2rem;border-radius:3px}
.badge{display:inline-block;padding:0 .4rem;border-radius:4px;background:#e9ecef;font-size:.85em}
.text-success{color:#198754}.text-danger{color:#dc3545}.text-warning{color:#b35c00}
.fas{font-style:normal}
.fa-check-circle::before{content:"\\2714"}
.fa-times::before{content:"\\2718"}
.fa-exclamation-triangle::before{content:"\\26A0"}
.fa-question-circle::before{content:"?"}
.sticky>.card:first-of-type,a[data-toggle="collapse"]{display:none}
"""

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.I | re.S)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
_FOOTER = re.compile(r"<footer\b.*?</footer\s*>", re.I | re.S)
_EXTERNAL_IMG = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
_ALT = re.compile(r"\balt\s*=\s*\"([^\"]*)\"", re.I)
_EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", re.I)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.I | re.S)
_HREF = re.compile(r"\bhref\s*=\s*\"([^\"]*)\"", re.I)


def _image(match: re.Match[str]) -> str:
    alt = _ALT.search(match.group(0))
    return html.escape(html.unescape(alt.group(1))) if alt else ""


def _anchor(files: Collection[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        attributes, text = match.group(1), match.group(2)
        found = _HREF.search(attributes)
        if found is None or found.group(1).startswith("#"):
            return match.group(0)
        href = html.unescape(found.group(1))
        if "://" not in href and not href.startswith("//"):
            inside = normpath(href)
            if inside in files:
                return match.group(0)
            if inside.endswith("index.html"):  # GX's "home": the run's own index
                home = _HREF.sub('href="index.html"', attributes, count=1)
                return f"<a{home}>{text}</a>"
        return text  # a link out of the folder: keep its text

    return replace


def offline_page(page: str, files: Collection[str]) -> str:
    """page (GX's HTML) with nothing outside the folder holding files (names of its pages)."""
    page = _SCRIPT.sub("", page)
    page = _LINK_TAG.sub("", page)
    page = _FOOTER.sub("", page)
    page = _EXTERNAL_IMG.sub(_image, page)
    page = _EXTERNAL_CSS_URL.sub("none", page)
    page = _ANCHOR.sub(_anchor(files), page)
    return page.replace("</head>", f"<style>{STYLESHEET}</style>\n</head>", 1)
