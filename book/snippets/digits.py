"""The digits data set as every chapter that trains on it loads it.

1,797 images of 8x8 pixels scaled to [0, 1], their labels, and one fixed random
order `perm` from which a chapter takes its own split. How the copies are kept
equal: book/snippets/setup.py.
"""

import torch
from sklearn.datasets import load_digits

# block: load
digits = load_digits()
X = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y = torch.tensor(digits.target, dtype=torch.int64)
perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
