"""Shared test set-up: one torch thread (2-core CI), headless matplotlib."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):  # noqa: D103 - pytest hook
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
