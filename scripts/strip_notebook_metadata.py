"""Remove volatile metadata from notebooks, so that a diff shows only what changed.

    python scripts/strip_notebook_metadata.py [--check] [NOTEBOOK.ipynb ...]

Executing a notebook (nbconvert, nbclient, JupyterLab) stamps it with data that
changes on every run and says nothing about the chapter:

- `metadata.execution` of each code cell: nbclient's start and end timestamps;
- `metadata.ExecuteTime` of each code cell: the same, from jupyterlab-execute-time;
- `metadata.scrolled` of each code cell: whether the output area was scrolled;
- `metadata.language_info.version` of the notebook: the Python that ran it.

It also adds the one piece of metadata a stored notebook must carry for JupyterLab:
a solution cell (tagged `hide-cell`, which the site shows collapsed) gets
`jupyter.source_hidden` and `jupyter.outputs_hidden`, so that JupyterLab opens it
collapsed too.

Everything else stays: outputs, execution counts, cell ids, tags, `jupyter.*` cell
metadata (hidden sources), the kernelspec. The script is idempotent and leaves a
notebook with nothing to strip untouched. Without paths it works on notebooks/.
With --check it changes nothing, names each notebook and cell that has something
to strip, and exits 1 if there is any (the pre-commit hook and the test use this).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CELL_KEYS = ("execution", "ExecuteTime", "scrolled")


def strip(nb: nbformat.NotebookNode) -> list[str]:
    """Remove the volatile metadata in place; return what was removed, one line each."""
    removed = []
    for i, cell in enumerate(nb.cells):
        for key in CELL_KEYS:
            if key in cell.get("metadata", {}):
                del cell.metadata[key]
                removed.append(f"cell {i} ({cell.get('id', 'no id')}): metadata.{key}")
        tags = cell.get("metadata", {}).get("tags", [])
        hidden = cell.get("metadata", {}).get("jupyter", {})
        if "hide-cell" in tags and not (
            hidden.get("source_hidden") and hidden.get("outputs_hidden")
        ):
            cell.metadata["jupyter"] = {**hidden, "source_hidden": True, "outputs_hidden": True}
            removed.append(f"cell {i} ({cell.get('id', 'no id')}): solution open in JupyterLab")
    info = nb.metadata.get("language_info", {})
    if "version" in info:
        del info["version"]
        removed.append("notebook: metadata.language_info.version")
    return removed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if dirty")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        removed = strip(nb)
        if not removed:
            continue
        dirty += 1
        if args.check:
            shown = removed[:5] + ([f"... and {len(removed) - 5} more"] if len(removed) > 5 else [])
            print(f"{path}: volatile metadata: " + "; ".join(shown))
        else:
            out = nbformat.writes(nb)
            path.write_text(out if out.endswith("\n") else out + "\n", encoding="utf-8")
            print(f"{path}: removed {len(removed)} volatile metadata entries")
    if args.check and dirty:
        print(f"run: python scripts/strip_notebook_metadata.py (on {dirty} notebook(s))")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
