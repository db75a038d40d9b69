"""Benchmark the built site as a phone would load it: Lighthouse, and the site's size.

    python scripts/bench_site.py [--html _build/html] [--out _build/bench] [PAGE ...]

Serves the site on 127.0.0.1 with gzip, as a real host (GitHub Pages, Read the Docs)
does: `python -m http.server` does not compress, which costs Lighthouse's mobile
score several seconds. Then runs Lighthouse (pinned in site-tools/package.json,
installed by `make setup`) with its default mobile settings (simulated slow 4G, 4x
CPU slowdown) on each page: by default the landing page and the heaviest chapter
(its HTML plus its images). Prints a table; writes each page's Lighthouse report
and a summary.json to --out.

This is a benchmark, not a test: a busy machine gives lower performance scores.
Issue 16 asks for mobile performance >= 80 and accessibility 100 on those pages,
and a site of at most 15 MB.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import mimetypes
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "site-tools" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
COMPRESSIBLE = {".html", ".js", ".css", ".svg", ".json", ".txt", ".inv", ".ipynb", ".md"}
AUDITS = {
    "FCP s": ("first-contentful-paint", 1e-3),
    "LCP s": ("largest-contentful-paint", 1e-3),
    "TBT ms": ("total-blocking-time", 1),
    "CLS": ("cumulative-layout-shift", 1),
    "transfer KB": ("total-byte-weight", 1e-3),
}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed when the client accepts it (level 6, like nginx)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (path.is_file() and accepts and path.suffix in COMPRESSIBLE):
            return super().do_GET()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "text/plain")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)


def serve(html: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(GzipHandler, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def heaviest_chapter(html: Path) -> str:
    def weight(page: Path) -> int:
        text = page.read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]*src="([^"]+)"', text)
        return page.stat().st_size + sum(
            (page.parent / src).stat().st_size for src in images if (page.parent / src).is_file()
        )

    chapters = sorted((html / "notebooks").glob("*.html"), key=weight)
    return chapters[-1].relative_to(html).as_posix()


def lighthouse(url: str, out: Path) -> dict:
    cmd = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--only-categories=performance,accessibility",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        "--output=json",
        f"--output-path={out}",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(cmd, check=True, env=env, timeout=600)
    report = json.loads(out.read_text(encoding="utf-8"))
    row = {
        "performance": round(100 * (report["categories"]["performance"]["score"] or 0)),
        "accessibility": round(100 * (report["categories"]["accessibility"]["score"] or 0)),
    }
    for name, (audit, scale) in AUDITS.items():
        value = report["audits"][audit].get("numericValue")
        row[name] = None if value is None else round(value * scale, 3 if name == "CLS" else 1)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="pages relative to the site root")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bench")
    args = parser.parse_args()
    if not (args.html / "book" / "intro.html").exists():
        sys.exit(f"no site in {args.html}: run `make site` first")
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} not found: run `make setup`")
    pages = args.pages or ["book/intro.html", heaviest_chapter(args.html)]
    args.out.mkdir(parents=True, exist_ok=True)

    files = [p for p in args.html.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    summary: dict = {"site_MB": round(size / 1e6, 2), "files": len(files), "pages": {}}
    httpd, base = serve(args.html)
    try:
        for page in pages:
            name = page.replace("/", "_").removesuffix(".html")
            summary["pages"][page] = lighthouse(f"{base}/{page}", args.out / f"{name}.json")
    finally:
        httpd.shutdown()

    print(f"site: {summary['site_MB']} MB in {summary['files']} files ({args.html})")
    columns = ["performance", "accessibility", *AUDITS]
    print("| page | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for page, row in summary["pages"].items():
        print(f"| {page} | " + " | ".join(str(row[c]) for c in columns) + " |")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
