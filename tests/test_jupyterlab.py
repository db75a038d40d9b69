"""The notebooks in real JupyterLab, used the way a learner uses them.

A JupyterLab server (this environment's) runs on a free local port over a copy of
notebooks/ (running a chapter never saves over the repository's file), and headless
Chromium opens chapters in it. On each page the test reads what JupyterLab rendered:
no MyST markup shown raw, no nbval marker in the code, every link resolves (an
in-page anchor exists, a chapter link is served by JupyterLab), the solutions are
collapsed; it follows a citation link and sees its reference scrolled into view.
One short chapter is run with Run > Run All Cells: every code cell runs, with no
error and nothing on stderr.

Only the chapters in OPENED are opened (each page load costs seconds on a busy
machine; the files of all chapters are checked by tests/test_standalone.py). A
chapter the rewrite (scripts/standalone.py) has not reached yet is skipped, as
there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, ROOT
from test_standalone import EVERY_NOTEBOOK  # one switch for both modules

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
RUN_ALL = "00_quickstart"  # the shortest chapter: run through the menus
OPENED = [RUN_ALL, "03_momentum"]  # 03 has the most links: chapters, glossary, notation
TIMEOUT_MS = 120_000  # a busy 2-core machine starts JupyterLab and a kernel slowly
RAW_MARKUP = ["{cite:", "```{", "{glossary}", ":::", "](", "NBVAL_", "](../"]
STANDALONE_KEY = "sgd_book"  # scripts/standalone.py marks the notebooks it rewrote


def rewritten(name: str) -> bool:
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return bool(nb["metadata"].get(STANDALONE_KEY, {}).get("standalone"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a JupyterLab server over a copy of notebooks/, token-free, local."""
    root = tmp_path_factory.mktemp("lab")
    work = root / "notebooks"
    work.mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, work / path.name)
    # Every cell in the page at once (JupyterLab attaches far-away cells only when
    # scrolled to; this reads what a learner sees by scrolling through the chapter).
    tracker = root / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port = free_port()
    env = {
        **os.environ,
        # Settings, workspaces and runtime files in the temporary folder, not in ~.
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={work}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no look-ups on PyPI
        "--ServerApp.terminals_enabled=False",
        "--allow-root",  # CI containers run as root; harmless otherwise
        "--LabApp.expose_app_in_browser=True",  # the test reads execution counts from it
    ]
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "JupyterLab did not start:\n" + (root / "lab.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), (
        f"{CHROMIUM} not found: run `make setup` (installs Debian's chromium) or set CHROMIUM_PATH"
    )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# What the page shows, read in the page: (rendered markdown text, links, solutions).
# JupyterLab renders `<a id="x">` as `data-jupyter-id="x"` (ids in a notebook must
# not clobber the page's) and scrolls there itself on a click on `#x`.
TARGET = 'id => `[data-jupyter-id="${id}"], [id="${id}"]`'
READ_PAGE = (
    """() => {
  const TARGET = """
    + TARGET
    + """;
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const md = cells.filter(c => c.classList.contains('jp-MarkdownCell'));
  const code = cells.filter(c => c.classList.contains('jp-CodeCell'));
  const own = '.jp-RenderedMarkdown a[href]:not(.jp-InternalAnchorLink)';  // not the ¶ links
  const links = [...panel.querySelectorAll(own)].map(a => {
    const raw = a.getAttribute('href');
    const id = raw.startsWith('#') ? decodeURIComponent(raw.slice(1)) : null;
    const found = id !== null && panel.querySelector(TARGET(id));
    return {raw, href: a.href, text: a.textContent, found: !!found};
  });
  const visible = el => !!el && el.offsetParent !== null && el.getClientRects().length > 0;
  return {
    markdownCells: md.length,
    rendered: md.filter(c => c.querySelector('.jp-RenderedMarkdown')).length,
    text: md.map(c => (c.querySelector('.jp-RenderedMarkdown') || c).innerText).join('\\n'),
    code: code.map(c => c.querySelector('.jp-InputArea .cm-content')?.textContent ?? ''),
    codeInputVisible: code.map(c => visible(c.querySelector('.jp-InputArea'))),
    openDetails: [...panel.querySelectorAll('details.solution[open]')].length,
    details: [...panel.querySelectorAll('details.solution')].length,
    links,
  };
}"""
)


def open_notebook(browser, lab: str, name: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{lab}/lab/tree/{name}.ipynb", wait_until="load")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown")
    return page


def read(page, name: str) -> dict:
    stored = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    solutions = [
        i
        for i, c in enumerate(x for x in stored["cells"] if x["cell_type"] == "code")
        if "hide-cell" in c["metadata"].get("tags", [])
    ]
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell "
        ".jp-RenderedMarkdown').length >= n",
        arg=sum(c["cell_type"] == "markdown" for c in stored["cells"]),
    )
    # JupyterLab renders a cell's Markdown before it has resolved its links: wait for
    # the links too (a race that once read a rendered chapter with no link in it).
    if any("](" in "".join(c["source"]) for c in stored["cells"] if c["cell_type"] == "markdown"):
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-NotebookPanel .jp-RenderedMarkdown "
            "a[href]:not(.jp-InternalAnchorLink)').length > 0"
        )
    found = page.evaluate(READ_PAGE)
    found["solutions"] = solutions
    found["stored"] = sum(c["cell_type"] == "markdown" for c in stored["cells"])
    return found


@pytest.fixture(scope="module")
def pages(request: pytest.FixtureRequest) -> Iterator[dict]:
    """Each chapter of OPENED, opened once: its page and what it shows (no server
    and no browser are started while no chapter is rewritten)."""
    opened = {}
    for name in OPENED:
        if rewritten(name):
            browser = request.getfixturevalue("browser")
            page = open_notebook(browser, request.getfixturevalue("lab"), name)
            opened[name] = (page, read(page, name))
    yield opened
    for page, _ in opened.values():
        page.close()


def shown(pages: dict, name: str) -> dict:
    if name not in pages:
        if EVERY_NOTEBOOK:
            pytest.fail(f"{name}: not rewritten: run python scripts/standalone.py")
        pytest.skip(f"{name}: not rewritten by scripts/standalone.py yet")
    return pages[name][1]


each_opened = pytest.mark.parametrize("name", OPENED)


@each_opened
def test_no_raw_markup(pages: dict, name: str) -> None:
    seen = shown(pages, name)
    assert seen["rendered"] == seen["markdownCells"] == seen["stored"], (
        f"{name}: {seen['rendered']} of {seen['stored']} markdown cells rendered"
    )
    raw = [m for m in RAW_MARKUP if m in seen["text"]]
    assert not raw, f"{name}: JupyterLab shows raw markup {raw}"
    markers = [i for i, src in enumerate(seen["code"]) if "NBVAL_" in src]
    assert not markers, f"{name}: code cells {markers} show an nbval marker"


@each_opened
def test_no_broken_link(pages: dict, name: str) -> None:
    seen = shown(pages, name)
    page = pages[name][0]
    lab = page.url.split("/lab/")[0]
    assert seen["links"], f"{name}: no links found (the page was not read)"
    broken = []
    for link in seen["links"]:
        if link["raw"].startswith("#"):
            if not link["found"]:
                broken.append(f"{link['raw']} ({link['text']!r}): no such anchor")
        elif link["href"].startswith(lab):  # a file JupyterLab serves: it must exist
            status = page.request.get(link["href"]).status
            if status != 200:
                broken.append(f"{link['raw']}: JupyterLab answers {status}")
        elif not link["href"].startswith("https://"):
            broken.append(f"{link['raw']}: neither in the notebook, a chapter, nor https")
    assert not broken, f"{name}: broken links in JupyterLab: " + "; ".join(broken[:5])


@each_opened
def test_solutions_collapsed(pages: dict, name: str) -> None:
    seen = shown(pages, name)
    assert seen["solutions"] or seen["details"], f"{name}: no solutions found"
    open_code = [i for i in seen["solutions"] if seen["codeInputVisible"][i]]
    assert not open_code, f"{name}: solution code cells {open_code} are shown open"
    assert seen["openDetails"] == 0, f"{name}: {seen['openDetails']} solution blocks open"


def test_a_citation_jumps_to_its_reference(pages: dict) -> None:
    name = next((n for n in OPENED if n in pages), None)
    if name is None:
        shown(pages, OPENED[0])
    page, seen = pages[name]
    first = next(link for link in seen["links"] if link["raw"].startswith("#ref-"))
    target = first["raw"][1:]
    page.locator(f'.jp-RenderedMarkdown a[href="#{target}"]').first.click()
    page.wait_for_function(
        """id => { const el = document.querySelector(("""
        + TARGET
        + """)(id)); if (!el) return false;
           const r = el.getBoundingClientRect();
           return r.top >= 0 && r.bottom <= window.innerHeight; }""",
        arg=target,
        timeout=30_000,
    )


def test_run_all_cells(pages: dict) -> None:
    """Run > Run All Cells, as a learner does: every code cell runs, none fails."""
    shown(pages, RUN_ALL)
    page, seen = pages[RUN_ALL]
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    n = len(seen["code"])
    prompts = (
        "[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim())"
    )
    # Queued cells show [*] at once; the run is over when none does.
    page.wait_for_function(f"() => {prompts}.some(t => t.includes('*'))")
    page.wait_for_function(
        f"() => !{prompts}.some(t => t.includes('*')) && window.jupyterapp.shell"
        ".currentWidget.sessionContext.session?.kernel?.status === 'idle'"
    )
    counts = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
        ".filter(c => c.cell_type === 'code').map(c => c.execution_count)"
    )
    outputs = page.evaluate(
        """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
             + '.jp-OutputArea-output')].map(o => [o.getAttribute('data-mime-type'),
             o.innerText.slice(0, 300)])"""
    )
    errors = [text for mime, text in outputs if mime == "application/vnd.jupyter.stderr"]
    assert not errors, f"{RUN_ALL}: error or stderr output after Run All: {errors[:2]}"
    assert outputs, f"{RUN_ALL}: no output at all after Run All"
    assert counts == list(range(1, n + 1)), (
        f"{RUN_ALL}: not every cell ran once, in order: {counts}"
    )
