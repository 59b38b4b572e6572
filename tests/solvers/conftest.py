"""Fixtures of the solver tests: a small Darcy data set made in the test."""

from __future__ import annotations

import numpy as np
import pytest
from operator_data import darcy_pairs


@pytest.fixture(scope="session")
def darcy_data() -> tuple[np.ndarray, np.ndarray]:
    return darcy_pairs(48, 17)
