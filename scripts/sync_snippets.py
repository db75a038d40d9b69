"""Copy the shared code of book/snippets/ into the notebooks, or check the copies.

The chapters stay self-contained (a reader opens one alone in Colab), so the code
they share is copied into each, from one canonical file per piece in book/snippets/
(d2l's `#@save` turned around). A copy starts with a header comment that names its
file and, when the chapter leaves blocks out, the blocks it keeps:

    # Set-up shared by every chapter (book/snippets/setup.py: seed, device, style).

and runs to the first blank line (or the end of the cell, or a line indented less
than the header). It must equal those blocks of the file, at the header's indent.

    python scripts/sync_snippets.py --check [FILE ...]   list what differs, exit 1 if any
    python scripts/sync_snippets.py --write [FILE ...]   rewrite the copies

FILE is a notebook, a Markdown page or a template; without one, every notebook in
notebooks/, the chapter template and CONTRIBUTING.md. `--write` also adopts the
set-up cell and the digits loader of a notebook written before book/snippets/ existed
(the exact old text, recognised below): it puts the header above and keeps only the
blocks whose names the notebook uses. tests/test_snippets.py runs `check`.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "book" / "snippets"
TEMPLATE = ROOT / "book" / "templates" / "chapter.ipynb"
DEFAULT_FILES = [*sorted((ROOT / "notebooks").glob("*.ipynb")), TEMPLATE, ROOT / "CONTRIBUTING.md"]

# `# any words (book/snippets/NAME.py)` or `(book/snippets/NAME.py: block, block)`.
HEADER = re.compile(
    r"^(?P<indent>[ \t]*)#[^\n]*\((?P<file>book/snippets/[\w-]+\.py)"
    r"(?::[ \t]*(?P<blocks>[\w-]+(?:,[ \t]*[\w-]+)*))?\)\.?[ \t]*$"
)
BLOCK = re.compile(r"^# block: (?P<name>[\w-]+)[ \t]*$")
# The header --write puts above a copy it adopts.
HEADER_TEXT = {
    "book/snippets/setup.py": "Set-up shared by every chapter",
    "book/snippets/digits.py": "The digits as every chapter loads them",
}
# The set-up code every chapter carried before book/snippets/ existed, line by line
# (data to recognise, not a program: tests/test_lint.py refuses programs in strings).
LEGACY = {
    "book/snippets/setup.py": [
        "torch.manual_seed(0)",
        "device = (",
        "    torch.accelerator.current_accelerator()",
        "    if torch.accelerator.is_available()",
        '    else torch.device("cpu")',
        ")",
        "plt.rcParams.update(",
        "    {",
        '        "figure.figsize": (8, 4),',
        '        "figure.dpi": 100,',
        '        "figure.constrained_layout.use": True,',
        '        "axes.grid": True,',
        '        "grid.alpha": 0.3,',
        '        "axes.spines.top": False,',
        '        "axes.spines.right": False,',
        "    }",
        ")",
        "# One colour per method, the same in every chapter (Okabe–Ito, colour-blind safe).",
        'COLORS = {"sgd": "#0072B2", "momentum": "#D55E00", "nesterov": "#009E73"}',
    ],
}


def read_snippet(path: Path) -> dict[str, list[str]]:
    """The blocks of a canonical file, in order: name -> lines (without newlines)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = BLOCK.match(line)
        if m:
            if m.group("name") in blocks:
                raise ValueError(f"{path.name}: block {m.group('name')!r} twice")
            current = blocks[m.group("name")] = []
        elif current is not None:
            current.append(line)
    for name, lines in blocks.items():
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            raise ValueError(f"{path.name}: block {name!r} is empty")
        if any(not ln.strip() for ln in lines):
            raise ValueError(f"{path.name}: block {name!r} holds a blank line (it ends a copy)")
    if not blocks:
        raise ValueError(f"{path.name}: no '# block: NAME' line")
    return blocks


def load_snippets() -> dict[str, dict[str, list[str]]]:
    """Every canonical file, keyed as a header names it: 'book/snippets/setup.py'."""
    return {f"book/snippets/{p.name}": read_snippet(p) for p in sorted(SNIPPETS.glob("*.py"))}


@dataclass
class Copy:
    """One copy in a text: the header's line number, the lines it spans, what they should be."""

    header: int  # index of the header line
    end: int  # index after the copy's last line
    indent: str
    file: str
    found: list[str]
    want: list[str] | None  # None: the header names an unknown file or block
    problem: str = ""


def copies_in(lines: list[str], snippets: dict[str, dict[str, list[str]]]) -> list[Copy]:
    found = []
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if not m:
            if "book/snippets/" in line:
                found.append(Copy(i, i + 1, "", "", [], None, f"not a header: {line.strip()!r}"))
            continue
        indent, file = m.group("indent"), m.group("file")
        end = i + 1
        while end < len(lines):
            nxt = lines[end]
            if not nxt.strip() or not nxt.startswith(indent) or nxt.lstrip().startswith("```"):
                break
            if indent and len(nxt) - len(nxt.lstrip()) < len(indent):
                break
            end += 1
        copy = Copy(i, end, indent, file, lines[i + 1 : end], None)
        blocks = snippets.get(file)
        if blocks is None:
            copy.problem = f"{file} does not exist"
        else:
            names = [b.strip() for b in m.group("blocks").split(",")] if m.group("blocks") else []
            unknown = [n for n in names if n not in blocks]
            if unknown:
                copy.problem = f"{file} has no block {unknown} (it has {list(blocks)})"
            elif names != [n for n in blocks if n in names]:
                copy.problem = f"name the blocks in {file}'s order: {list(blocks)}"
            else:
                keep = names or list(blocks)
                copy.want = [indent + ln if ln else ln for n in keep for ln in blocks[n]]
        found.append(copy)
    return found


def problems_in(
    lines: list[str], snippets: dict[str, dict[str, list[str]]]
) -> list[tuple[int, str]]:
    """What is wrong with the copies in these lines: (header's line index, message)."""
    out = []
    for c in copies_in(lines, snippets):
        if c.problem:
            out.append((c.header, c.problem))
        elif c.found != c.want:
            diff = difflib.unified_diff(c.want, c.found, c.file, "this copy", lineterm="", n=1)
            fix = "(python scripts/sync_snippets.py --write rewrites it)"
            out.append((c.header, f"differs from {c.file} {fix}:\n" + "\n".join(diff)))
    return out


def synced(lines: list[str], snippets: dict[str, dict[str, list[str]]]) -> list[str]:
    """The lines with every copy rewritten from its canonical file."""
    out = list(lines)
    for c in reversed(copies_in(lines, snippets)):
        if c.want is not None and c.found != c.want:
            out[c.header + 1 : c.end] = c.want
    return out


def assigned_names(block: list[str]) -> set[str]:
    tree = ast.parse("\n".join(block))
    return {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }


def adopted(lines: list[str], snippets: dict[str, dict[str, list[str]]], others: str) -> list[str]:
    """Old copies (no header yet) replaced by a header and the current blocks.

    The old text is LEGACY's, or the exact text of all of a file's blocks. A block
    is dropped when it assigns names that the rest of the notebook (`others`, the
    other code cells, and this cell around the old text) never reads.
    """
    out = list(lines)
    for file, blocks in snippets.items():
        old = LEGACY.get(file) or [ln for b in blocks.values() for ln in b]
        old_stripped = [ln.strip() for ln in old]
        i = 0
        while i + len(old) <= len(out):
            window = out[i : i + len(old)]
            has_header = i > 0 and HEADER.match(out[i - 1])
            if [ln.strip() for ln in window] != old_stripped or has_header:
                i += 1
                continue
            indent = window[0][: len(window[0]) - len(window[0].lstrip())]
            after = i + len(old)
            rest = "\n".join(out[:i] + out[after:]) + "\n" + others
            keep = [n for n, b in blocks.items() if used(assigned_names(b), rest)]
            names = "" if keep == list(blocks) else ": " + ", ".join(keep)
            new = [f"{indent}# {HEADER_TEXT.get(file, 'Shared code')} ({file}{names})."]
            new += [indent + ln for n in keep for ln in blocks[n]]
            if after < len(out) and out[after].strip():
                new.append("")  # a copy ends at a blank line
            out[i:after] = new
            i += len(new)
    return out


def used(names: set[str], text: str) -> bool:
    """A block that assigns nothing (a seed, a style) is always used."""
    return not names or any(re.search(rf"\b{re.escape(n)}\b", text) for n in names)


def cell_lines(cell: dict) -> list[str]:
    src = cell["source"]
    return ("".join(src) if isinstance(src, list) else src).splitlines()


def set_cell_lines(cell: dict, lines: list[str]) -> None:
    text = "\n".join(lines)
    cell["source"] = text.splitlines(keepends=True)


def python_fences(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line ranges of the ```python blocks of a Markdown text."""
    found, start = [], None
    for i, line in enumerate(lines):
        if start is None and line.strip() == "```python":
            start = i + 1
        elif start is not None and line.strip().startswith("```"):
            found.append((start, i))
            start = None
    return found


def check_file(path: Path, snippets: dict[str, dict[str, list[str]]]) -> list[str]:
    """Problems with the copies in a notebook's code cells (named by cell), or in the
    ```python blocks of a Markdown file (named by line)."""
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if path.suffix != ".ipynb":
        lines = path.read_text(encoding="utf-8").splitlines()
        out = []
        for first, end in python_fences(lines):
            for line, problem in problems_in(lines[first:end], snippets):
                out.append(f"{name} line {first + line + 1}: {problem}")
        return out
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for line, problem in problems_in(cell_lines(cell), snippets):
                out.append(f"{name} cell {i} (id {cell.get('id')}) line {line + 1}: {problem}")
    return out


def rewritten(path: Path, snippets: dict[str, dict[str, list[str]]]) -> tuple[str, str]:
    """A file's text before and after rewriting its copies (and adopting old ones)."""
    before = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        lines = before.splitlines()
        for first, end in reversed(python_fences(lines)):
            lines[first:end] = synced(lines[first:end], snippets)
        return before, "\n".join(lines) + ("\n" if before.endswith("\n") else "")
    nb = json.loads(before)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code:
        others = "\n".join("\n".join(cell_lines(c)) for c in code if c is not cell)
        lines = adopted(cell_lines(cell), snippets, others)
        set_cell_lines(cell, synced(lines, snippets))
    return before, json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_file(path: Path, snippets: dict[str, dict[str, list[str]]]) -> bool:
    """Rewrite the copies in a file (and adopt a notebook's old ones); True if it changed."""
    before, after = rewritten(path, snippets)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="list copies that differ")
    mode.add_argument("--write", action="store_true", help="rewrite them")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    files = [p.resolve() for p in args.files] or DEFAULT_FILES
    snippets = load_snippets()
    if args.write:
        for path in files:
            if write_file(path, snippets):
                print(f"rewrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    problems = [p for path in files for p in check_file(path, snippets)]
    for path in files:  # old copies, without a header yet
        before, after = rewritten(path, snippets)
        if after != before and not check_file(path, snippets):
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            problems.append(f"{name}: shared code without its header (--write adopts it)")
    print("\n\n".join(problems) if problems else f"{len(files)} files: every copy is current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
