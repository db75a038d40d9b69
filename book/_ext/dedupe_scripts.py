"""Drop repeated inline <script> blocks from every page.

The bug: sphinx-thebe 0.3.1 and sphinx-togglebutton 0.4.5 (both loaded by Jupyter
Book 1.x) add their inline configuration scripts with
`app.add_js_file(None, body=...)` from a read-phase event (`env-before-read-docs`).
Under Sphinx 7.4.7 each script then reaches a page's `script_files` twice, once
with `filename=None` and once with `filename=''`, so Sphinx's own de-duplication
(which compares whole entries) misses the pair. The second
`const THEBE_JS_URL = ...` is a JavaScript error ("Identifier has already been
declared") on every page, which the browser test rightly reports. Other books
work around it by editing the built HTML with a regular expression; this does it
before the HTML exists, keeping the order and the first copy.

`priority=900` runs the handler after every other `html-page-context` handler
(the default is 500), so that scripts those add are de-duplicated too.

Remove this file, and its line in _config.yml, when the count it reports at the
end of the build is 0: tests/test_site.py::test_the_script_dedupe_is_still_needed
fails then, saying so.
"""

from __future__ import annotations

from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)
REPORT = "dedupe_scripts: removed {removed} repeated inline script(s) from {pages} page(s)"


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", str(script.attributes.get("body", "")))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    removed = len(context.get("script_files", [])) - len(unique)
    if removed:
        app.dedupe_scripts_removed += removed
        app.dedupe_scripts_pages += 1
    context["script_files"] = unique


def _report(app: Any, exception: Exception | None) -> None:
    if exception is None:
        removed, pages = app.dedupe_scripts_removed, app.dedupe_scripts_pages
        logger.info(REPORT.format(removed=removed, pages=pages))


def setup(app: Any) -> dict:
    app.dedupe_scripts_removed = 0
    app.dedupe_scripts_pages = 0
    app.connect("html-page-context", _dedupe, priority=900)
    app.connect("build-finished", _report)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
