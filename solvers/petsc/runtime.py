"""petsc4py, imported on first use, and the PETSc facts the method reports."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from sciml.errors import MissingDependencyError

#: where Debian's python3-petsc4py keeps PETSc (its petsc4py.pth expects PETSC_DIR)
DEBIAN_PETSC_DIR = "/usr/lib/petscdir/petsc3.18/x86_64-linux-gnu-real"

INSTALL_HINT = (
    "PyPI has only source packages of PETSc; install it by one of the two recipes of the "
    "README's PETSc section: (a) Debian's build: apt-get install -y python3-petsc4py "
    "python3-venv; /usr/bin/python3 -m venv --system-site-packages VENV; VENV/bin/pip install "
    "torch==2.13.0 'numpy<2' 'scipy<1.14' -e .; run with PETSC_DIR=" + DEBIAN_PETSC_DIR +
    " (and OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 as root); or (b) a "
    "source build of PETSc and petsc4py (mpich + mpi4py wheels, about 25 minutes)")


@lru_cache(maxsize=1)
def petsc() -> ModuleType:
    """The ``petsc4py.PETSc`` module, initialised once per process.

    Raises
    ------
    MissingDependencyError
        petsc4py is not importable; the message gives the two install recipes, and says to
        set ``PETSC_DIR`` when Debian's PETSc is installed but not on the path.
    """
    try:
        import petsc4py  # noqa: PLC0415 - optional dependency, imported on first use

        petsc4py.init()
        from petsc4py import PETSc  # noqa: PLC0415
    except ImportError as exc:
        hint = ""
        if not os.environ.get("PETSC_DIR") and Path(DEBIAN_PETSC_DIR).is_dir():
            hint = (f" Debian's PETSc is installed here: set PETSC_DIR={DEBIAN_PETSC_DIR} and "
                    "use /usr/bin/python3's venv (NumPy < 2).")
        raise MissingDependencyError(
            f"method 'petsc' needs petsc4py, which does not import here ({exc}).{hint} "
            f"{INSTALL_HINT}") from exc
    return PETSc


def reason_name(code: int) -> str:
    """The name of a ``KSPConvergedReason`` code, e.g. ``CONVERGED_ATOL``, ``DIVERGED_MAX_IT``."""
    names = {value: name for name, value in reversed(vars(petsc().KSP.ConvergedReason).items())
             if isinstance(value, int) and not name.startswith("_")}
    return names.get(code, f"KSP reason {code}")
