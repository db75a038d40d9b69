/* Accessibility fixes for markup the book does not write (axe-core, issue 16).

   - label-content-name-mismatch (serious): an `aria-label` that does not contain
     the visible text, so a speech-input user who says what they see ("click Show
     code cell content") cannot reach the control. pydata-sphinx-theme's search
     fields say "Search Ctrl+K" but are labelled "Search"; MyST-NB's hidden-cell
     toggles say "Show code cell content" but are labelled "Toggle hidden content".
     The label is removed: the visible text becomes the name.
   - aria-required-children (critical) and aria-deprecated-role: the References
     list (docutils' citation markup, via sphinxcontrib-bibtex) is a
     `role="list"` whose entries carry the deprecated `role="doc-biblioentry"`
     instead of `listitem`.
   tests/test_site.py::test_no_serious_accessibility_violations runs axe on every
   page, light and dark. */
(() => {
  "use strict";
  const visibleText = (el) => el.innerText.replace(/\s+/g, " ").trim();
  const fix = () => {
    document
      .querySelectorAll("button.search-button-field[aria-label], details > summary[aria-label]")
      .forEach((el) => {
        const text = visibleText(el);
        const label = el.getAttribute("aria-label") || "";
        if (text && !label.toLowerCase().includes(text.toLowerCase())) {
          el.removeAttribute("aria-label");
        }
      });
    document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach((el) => {
      el.setAttribute("role", "listitem");
    });
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fix);
  } else {
    fix();
  }
})();
