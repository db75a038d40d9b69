"""The shared part of every chapter's set-up cell: it follows the chapter's own imports.

This file is the one place to change it. Each `# block: NAME` line below starts a
block. A chapter copies the blocks it uses, in this order, under one header line
that names this file and, when it leaves a block out, the blocks it keeps:

    # Set-up shared by every chapter (book/snippets/setup.py: seed, device, style).

`python scripts/sync_snippets.py --write` rewrites every copy from this file, and
tests/test_snippets.py fails, naming the notebook and the cell, when a copy differs.
A copy ends at the first blank line, so a block holds no blank line. Changing a
block changes every chapter: check them all (CONTRIBUTING.md, "Shared code").
"""

import matplotlib.pyplot as plt
import torch

# block: seed
torch.manual_seed(0)
# block: device
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
# block: style
plt.rcParams.update({"figure.figsize": (8, 4), "figure.dpi": 100, "axes.grid": True})
plt.rcParams.update({"figure.constrained_layout.use": True, "grid.alpha": 0.3})
plt.rcParams.update({"axes.spines.top": False, "axes.spines.right": False})
# Text sizes: font.size in points, the others relative to it (matplotlib's defaults).
plt.rcParams.update({"font.size": 10, "axes.titlesize": "large", "legend.fontsize": "medium"})
# block: colors
# One colour per method, the same in every chapter (Okabe–Ito, colour-blind safe).
COLORS = {"sgd": "#0072B2", "momentum": "#D55E00", "nesterov": "#009E73"}
