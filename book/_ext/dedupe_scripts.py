"""Drop repeated inline <script> blocks from every page.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton (both loaded by Jupyter Book
1.x) register their inline configuration scripts twice. A repeated
`const THEBE_JS_URL = ...` is a JavaScript error ("Identifier has already been
declared") on every page, which the browser test rightly reports.
"""

from __future__ import annotations

from typing import Any


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in context.get("script_files", []):
        key = (script.filename or "", str(script.attributes.get("body", "")))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app: Any) -> dict:
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
