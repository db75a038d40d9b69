/* The sidebar (hamburger) and in-page contents toggles, made to work at every width.

   The bug (pydata-sphinx-theme 0.17.1 with sphinx-book-theme 1.3.0): both themes
   bind their click handlers with `document.querySelector(".primary-toggle")`, which
   finds the theme header's copy of the button. That copy is never displayed in this
   layout, so the button a reader sees (in the article header) has no handler and does
   nothing, on a phone and on a desktop. Upstream: pydata-sphinx-theme issue #2451
   ("Mobile primary-sidebar toggle silently does nothing with some themes", fix:
   bind every `.primary-toggle` / `.secondary-toggle`), sphinx-book-theme issue #988.
   Remove this file (and its line in _config.yml) once a fixed release is pinned:
   tests/test_site.py::test_sidebar_toggles_open_and_close checks the behaviour.

   What a click does here (the behaviour both themes intend):
   - wide screens (sidebar shown in the page): hide it, and show it again;
   - narrow screens: open the sidebar as a modal dialog (the theme's own <dialog>,
     keyboard- and screen-reader-friendly), and close it with a second tap on the
     button's place, a tap outside it, or Escape. The dialogs open below the article
     header, so the button stays in view where it was.
   The handler runs in the capture phase on the document, before the themes' own
   handlers, and stops the event, so exactly one action happens per click. */
(() => {
  "use strict";

  const PANELS = {
    primary: {
      toggle: ".primary-toggle",
      sidebar: "pst-primary-sidebar",
      dialog: "pst-primary-sidebar-modal",
      wide: "(min-width: 992px)", // the theme's breakpoint-lg: sidebar in the page
      hiddenClass: "pst-sidebar-hidden", // sphinx-book-theme's own class for it
    },
    secondary: {
      toggle: ".secondary-toggle",
      sidebar: "pst-secondary-sidebar",
      dialog: "pst-secondary-sidebar-modal",
      wide: "(min-width: 1200px)", // breakpoint-xl: contents in the page
      hiddenClass: "sgd-toc-hidden", // custom.css
    },
  };

  // Move the children and classes of `from` into `to` (what the theme does, so the
  // dialog is styled as the sidebar is).
  const move = (from, to) => {
    Array.from(from.childNodes).forEach((node) => to.appendChild(node));
    Array.from(from.classList).forEach((cls) => {
      from.classList.remove(cls);
      to.classList.add(cls);
    });
  };

  const setExpanded = (panel, expanded) => {
    document.querySelectorAll(panel.toggle).forEach((b) => {
      b.setAttribute("aria-expanded", String(expanded));
    });
  };

  let opener = null; // the button that opened a dialog gets the focus back

  const wired = new WeakSet();
  const wireDialog = (panel, dialog, sidebar) => {
    if (wired.has(dialog)) return;
    wired.add(dialog);
    dialog.addEventListener("close", () => {
      if (dialog.childNodes.length) move(dialog, sidebar);
      setExpanded(panel, false);
      if (opener) opener.focus();
      opener = null;
    });
    // A click whose point lies outside the dialog's box landed on the backdrop
    // (including the place of the toggle button, which the backdrop covers).
    dialog.addEventListener("click", (event) => {
      const r = dialog.getBoundingClientRect();
      const x = event.clientX;
      const y = event.clientY;
      if (x < r.left || x > r.right || y < r.top || y > r.bottom) dialog.close();
    });
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        dialog.close();
      }
    });
  };

  const toggle = (panel, button) => {
    const sidebar = document.getElementById(panel.sidebar);
    const dialog = document.getElementById(panel.dialog);
    if (!sidebar) return;
    if (window.matchMedia(panel.wide).matches || !dialog) {
      const hidden = sidebar.classList.toggle(panel.hiddenClass);
      setExpanded(panel, !hidden);
      return;
    }
    wireDialog(panel, dialog, sidebar);
    if (dialog.open) {
      dialog.close();
    } else {
      move(sidebar, dialog);
      opener = button;
      // Open below the article header, so the button keeps its place in view.
      const header = button.closest(".bd-header-article");
      const top = header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
      dialog.style.top = `${top}px`;
      dialog.style.height = dialog.style.maxHeight = `calc(100% - ${top}px)`;
      dialog.showModal();
      setExpanded(panel, true);
    }
  };

  const init = () => {
    for (const panel of Object.values(PANELS)) {
      const sidebar = document.getElementById(panel.sidebar);
      const shown = sidebar && window.matchMedia(panel.wide).matches;
      setExpanded(panel, Boolean(shown));
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }

  document.addEventListener(
    "click",
    (event) => {
      for (const panel of Object.values(PANELS)) {
        const button = event.target.closest && event.target.closest(panel.toggle);
        if (!button) continue;
        event.preventDefault();
        event.stopImmediatePropagation();
        // A tap leaves Bootstrap's tooltip on screen over the header icons.
        const tip = window.bootstrap && window.bootstrap.Tooltip.getInstance(button);
        if (tip) tip.hide();
        button.blur();
        toggle(panel, button);
        return;
      }
    },
    true,
  );
})();
