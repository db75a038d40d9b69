/* Display equations on a narrow screen (a phone): never cut without a sign.

   MathJax 3 cannot break a long display equation into lines, so on a 390-px phone
   most of the book's numbered equations are wider than the text column. For each
   display equation, once MathJax has typeset the page and whenever the window is
   resized:
   - one that is too wide is set smaller, down to MIN_SCALE of MathJax's size
     (≈ 14 px, about the body text); at that size most fit, number included;
   - one that still does not fit gets the class `sgd-eq-scroll`: custom.css gives it
     a scroll bar and a shadow on the side where more of it lies, and a line under
     it says "(1.6) · scroll →": its equation number, which sits at the far right,
     and that it scrolls (aria-hidden: screen readers read the whole equation).
   tests/test_site.py::test_equations_on_a_phone checks every equation at 390 px. */
(() => {
  "use strict";

  const MIN_SCALE = 0.7;

  // The equation numbers of a display equation, "(1.6)", from its TeX source (CHTML
  // draws the characters with CSS, so the page's text has none).
  const tagsOf = (eq) => {
    const items = MathJax.startup.document.getMathItemsWithin(eq);
    const tex = items.length ? String(items[0].math) : "";
    return [...tex.matchAll(/\\tag\*?\{([^}]*)\}/g)].map((m) =>
      m[0].startsWith("\\tag*") ? m[1] : `(${m[1]})`,
    );
  };

  const fit = (eq) => {
    if (eq.dataset.sgdFontSize === undefined) {
      eq.dataset.sgdFontSize = eq.style.fontSize || "";
    }
    eq.style.fontSize = eq.dataset.sgdFontSize;
    eq.classList.remove("sgd-eq-scroll");
    if (eq.sgdNumber) eq.sgdNumber.remove();
    eq.sgdNumber = null;

    const width = eq.clientWidth;
    if (!width || eq.scrollWidth <= width + 1) return;
    const base = parseFloat(getComputedStyle(eq).fontSize);
    const scale = Math.max(MIN_SCALE, (width - 2) / eq.scrollWidth);
    eq.style.fontSize = `${(base * scale).toFixed(2)}px`;
    if (eq.scrollWidth <= eq.clientWidth + 1) return;

    eq.classList.add("sgd-eq-scroll");
    const number = document.createElement("div");
    number.className = "sgd-eq-number";
    number.setAttribute("aria-hidden", "true");
    number.textContent = [...tagsOf(eq), "scroll \u2192"].join(" \u00b7 ");
    // After the equation's block (div.math is a flex row in the theme).
    (eq.parentElement.matches("div.math") ? eq.parentElement : eq).after(number);
    eq.sgdNumber = number;
  };

  const fitAll = () => {
    document.querySelectorAll('mjx-container[display="true"]').forEach(fit);
    // The width the equations were last fitted to (the tests wait for it).
    document.documentElement.dataset.sgdEquationsFitted = String(window.innerWidth);
  };

  let timer = null;
  const start = () => {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
    MathJax.startup.promise.then(() => {
      fitAll();
      window.addEventListener("resize", () => {
        clearTimeout(timer);
        timer = setTimeout(fitAll, 150);
      });
    });
  };
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();
