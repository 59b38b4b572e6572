"""Method name -> Solver class, imported lazily on first use.

Built-in methods are listed below as ``"module:Class"`` strings so that ``import sciml``
imports none of them (and so needs neither torch nor CuPy). Third-party packages add methods
through the entry-point group ``sciml.solvers``::

    [project.entry-points."sciml.solvers"]
    my_method = "my_package.module:MySolver"
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from .errors import UnknownMethodError
from .solver_base import Solver

ENTRY_POINT_GROUP = "sciml.solvers"

#: name -> (import path, one-line description)
BUILTIN_METHODS: dict[str, tuple[str, str]] = {
    "cg": ("sciml.solvers.classical.cg:CG",
           "Conjugate gradients (sciml's own; NumPy or CuPy, matrix-free, optional M)"),
    "scipy_cg": ("sciml.solvers.classical.scipy_cg:ScipyCG",
                 "scipy.sparse.linalg.cg, the reference CG baseline"),
    "amg": ("sciml.solvers.classical.amg:AMG",
            "pyamg algebraic multigrid (kind='sa'|'rs'), as a CG preconditioner by default"),
    "direct": ("sciml.solvers.classical.direct:Direct",
               "Sparse direct solve (SuperLU via scipy.sparse.linalg.splu)"),
    "petsc": ("sciml.solvers.petsc.solver:PETScSolver",
              "PETSc Krylov solvers (ksp_type='cg') with gamg, hypre, icc, ...; MPI "
              "processes under mpiexec (petsc4py, optional)"),
    "spectral": ("sciml.solvers.classical.spectral:Spectral",
                 "Fourier spectral reference of periodic 1-D evolution: exact multiplier "
                 "(convection-diffusion), ETDRK4 (Burgers)"),
    "pinn": ("sciml.solvers.pinn.pinn:PINN",
             "Physics-informed network on (cos x, sin x, t), optional causal weighting "
             "(Raissi et al. 2019; Wang et al. 2022)"),
    "lpinn": ("sciml.solvers.pinn.lpinn:LPINN",
              "Lagrangian PINN: characteristics and the state along them (Mojgani et al. 2023)"),
    "deep_cd": ("sciml.solvers.deep_cd.solver:DeepCD",
                "Deep conjugate-direction method (Kaneda et al. 2023), learned multigrid net"),
    "mgno": ("sciml.solvers.mgno.solver:MgNOSolver",
             "MgNO multigrid neural operator (He, Liu, Xu 2024) for Darcy and Burgers"),
    "fno": ("sciml.solvers.fno.solver:FNOSolver",
            "Fourier neural operator baseline (neuraloperator library; extra 'fno')"),
    "dgno": ("sciml.solvers.dgno.solver:DGNOSolver",
             "DGNO generative neural operator (Zang & Koutsourelakis 2025), forward/inverse "
             "Darcy"),
}

_registered: dict[str, type[Solver]] = {}


def register(cls: type[Solver], name: str | None = None) -> type[Solver]:
    """Register a Solver class under ``name`` (default ``cls.name``) at run time."""
    key = name or cls.name
    if not key:
        raise ValueError("a registered Solver needs a non-empty name")
    _registered[key] = cls
    return cls


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def methods() -> dict[str, str]:
    """Every known method name with its one-line description, built-ins first."""
    listing = {name: desc for name, (_, desc) in BUILTIN_METHODS.items()}
    for name, cls in _registered.items():
        listing[name] = cls.description
    for name, ep in _entry_points().items():
        if name not in listing:
            try:
                listing[name] = getattr(ep.load(), "description", "") or ep.value
            except Exception as exc:  # a broken plug-in must not hide the others
                listing[name] = f"(failed to load: {exc})"
    return listing


def get_solver_class(name: str) -> type[Solver]:
    """Return the Solver class registered as ``name``; import it on first use."""
    if not isinstance(name, str):
        raise TypeError(f"method must be a string, got {type(name).__name__}")
    if name in _registered:
        return _registered[name]
    if name in BUILTIN_METHODS:
        target = BUILTIN_METHODS[name][0]
    elif name in _entry_points():
        cls = _entry_points()[name].load()
        return register(cls, name)
    else:
        known = ", ".join(sorted(set(BUILTIN_METHODS) | set(_registered) | set(_entry_points())))
        raise UnknownMethodError(f"unknown method {name!r}; known methods: {known}")
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return register(cls, name)
