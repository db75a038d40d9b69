"""The repository is self-contained: nothing in it refers to a file outside it.

A clone must have everything its files point to: the style guide, the data, the
scripts. A relative path that climbs out of the repository (`../shared/STYLE.md`
from the top level) or an absolute path into one machine's folders (a home
directory, a work area) would work on one machine and nowhere else.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import ROOT

# `../` once or more, then a path. Resolved from the folder of the file that holds it.
RELATIVE = re.compile(r"(?<![\w.~/-])((?:\.\./)+[\w.-][\w./-]*)")
# A path into one machine's folders. (Written so that this file does not match it.)
MACHINE = re.compile(r"(?<![\w.~-])/(?:home|root|work|Users|mnt)/[\w.-]+")
BINARY = {".png", ".gif", ".jpg", ".jpeg", ".svg", ".ico", ".woff", ".woff2", ".pdf"}


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / name for name in out.split("\0") if name and (ROOT / name).is_file()]


def outside_references(path: Path, text: str) -> list[str]:
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in RELATIVE.finditer(line):
            target = (path.parent / m.group(1)).resolve()
            if not target.is_relative_to(ROOT):
                found.append(f"{path.relative_to(ROOT)}:{lineno}: {m.group(1)} (outside)")
        for m in MACHINE.finditer(line):
            found.append(f"{path.relative_to(ROOT)}:{lineno}: {m.group(0)} (a machine path)")
    return found


def test_nothing_refers_to_a_file_outside_the_repository() -> None:
    found = []
    for path in tracked_files():
        if path.suffix.lower() in BINARY:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += outside_references(path, text)
    assert not found, "references outside the repository:\n" + "\n".join(found)


def test_an_outside_reference_is_caught() -> None:
    text = "Read `../shared/STYLE.md` first.\nSee [ch 3](03_momentum.ipynb), ../book/x.md\n"
    home = "/".join(["", "home", "me"])  # not written out, or this file would match
    text += f"Or {home}/notes.md\n"
    found = outside_references(ROOT / "CONTRIBUTING.md", text)
    assert [f.split(": ", 1)[1] for f in found] == [
        "../shared/STYLE.md (outside)",
        "../book/x.md (outside)",
        f"{home} (a machine path)",
    ], found
