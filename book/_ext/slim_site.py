"""A lighter site: ship only what the pages load.

What the themes and extensions copy into the site, and what a page fetches, are not
the same (measured on this site: 38 MB built, 3.7 MB fetched by every page before
its content; see issue 16):

- sphinx-mathjax-offline copies the whole MathJax 3 distribution (24 MB, 106 files);
  pages load the one combined component `tex-chtml.js`, its CHTML web fonts and,
  on demand, a TeX extension that `autoload` pulls in for a macro (`\\boldsymbol`,
  `\\cancel`, ...). Everything else is deleted after the build (KEEP_MATHJAX).
  MathJax's context menu can still be opened; its optional speech and explorer
  tools (sre/, a11y/ beyond the assistive MathML built into tex-chtml.js) are
  not shipped: screen readers read the assistive MathML.
- Source maps (3.5 MB) are for the themes' developers: deleted, and the
  `sourceMappingURL` comments that point at them removed.
- pydata-sphinx-theme loads Font Awesome twice: as web fonts from its CSS (which
  draw every icon) and as the 1.5 MB SVG-replacing `fontawesome.js`. The template
  in `templates/static/webpack-macros.html` is the theme's own (0.17.1) without
  that script; the script is deleted from the site too. (The SVG copies also gave
  the colour-mode button a visible name, "Light", other than its label "Color
  mode", which axe reports as a serious label-content-name-mismatch.)

- `_static/locales` (sphinx-book-theme's message catalogs, .po/.mo, 0.7 MB) are
  read at build time only, and the TrueType copies of the Font Awesome fonts
  (0.7 MB) are the fallback for browsers without WOFF2 (none current): deleted.
- Images in a page's body load lazily (`loading="lazy"`): a chapter's figures lie
  below the first screen, and a phone on a slow network fetched all of them (ch. 4:
  450 KB) before the page was usable.

tests/test_site.py checks the result: the site's size, no source maps, no MathJax
file a page did not need (every page loads without a 404), icons still drawn.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

# Paths under _static/mathjax that are kept (prefixes, relative, with "/").
KEEP_MATHJAX = (
    "tex-chtml.js",
    "output/chtml/fonts/woff-v2/",
    "input/tex/extensions/",
)
SOURCE_MAP_COMMENT = re.compile(rb"\n?/[/*][#@] sourceMappingURL=[^\n]*?(\*/)?(?=\n|$)")
LAZY_IMG = re.compile(r"<img (?![^>]*\bloading=)")
REPORT = "slim_site: removed {n} unused files ({mb:.1f} MB)"


def _add_templates(app: Any, config: Any) -> None:
    config.templates_path.insert(0, str(HERE / "templates"))


def _lazy_images(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if context.get("body"):
        context["body"] = LAZY_IMG.sub('<img loading="lazy" decoding="async" ', context["body"])


def _prune(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    doomed: list[Path] = []
    mathjax = static / "mathjax"
    if mathjax.is_dir():
        for path in mathjax.rglob("*"):
            rel = path.relative_to(mathjax).as_posix()
            if path.is_file() and not rel.startswith(KEEP_MATHJAX):
                doomed.append(path)
    doomed += [p for p in static.rglob("*.map") if p.is_file()]
    doomed += [p for p in (static / "locales").rglob("*") if p.is_file()]
    doomed += [p for p in (static / "vendor").rglob("*.ttf") if p.is_file()]
    fontawesome = static / "scripts" / "fontawesome.js"
    doomed += [p for p in (fontawesome, fontawesome.with_suffix(".js.LICENSE.txt")) if p.exists()]
    size = sum(p.stat().st_size for p in doomed)
    for path in doomed:
        path.unlink()
    emptied = [static / "locales", mathjax]
    folders = [p for d in emptied if d.is_dir() for p in d.rglob("*") if p.is_dir()] + emptied
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    for path in list(static.rglob("*.js")) + list(static.rglob("*.css")):
        data = path.read_bytes()
        if b"sourceMappingURL=" in data:
            path.write_bytes(SOURCE_MAP_COMMENT.sub(b"", data))
    logger.info(REPORT.format(n=len(doomed), mb=size / 1e6))


def setup(app: Any) -> dict:
    app.connect("config-inited", _add_templates)
    app.connect("html-page-context", _lazy_images)
    app.connect("build-finished", _prune, priority=900)  # after the MathJax copy
    return {"parallel_read_safe": True, "parallel_write_safe": True}
