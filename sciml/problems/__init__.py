"""Problems sciml solves: linear systems and PDE instances.

Every PDE problem implements the protocol of :class:`~.protocol.PDEProblem`; a PDE with a
reference discretisation (``has_linear_form``) is solved by classical linear methods too.
:data:`PROBLEM_TYPES` lists them; adding a PDE means adding its module here and one entry.
"""

from __future__ import annotations

from ..errors import DataFileError, InvalidProblemError
from .burgers import Burgers1D
from .convection import Convection1D
from .darcy import DarcyFlow, assemble_darcy
from .darcy_inverse import DarcyInverse
from .evolution import PeriodicEvolution
from .linear import LinearProblem
from .poisson import Poisson
from .protocol import PDEProblem

#: problem name -> class, for model configs and data files (the forward problems a data set
#: holds; :class:`DarcyInverse` is solved through a model of :class:`DarcyFlow`)
PROBLEM_TYPES: dict[str, type[PDEProblem]] = {
    cls.name: cls for cls in (Poisson, DarcyFlow, Burgers1D, Convection1D)}


def problem_type(name: str) -> type[PDEProblem]:
    """The problem class registered as ``name`` (e.g. ``"darcy"``)."""
    if name not in PROBLEM_TYPES:
        raise InvalidProblemError(f"unknown problem {name!r}; known problems: "
                                  f"{', '.join(sorted(PROBLEM_TYPES))}")
    return PROBLEM_TYPES[name]


def problem_type_for_generator(generator: str, source: str = "the data") -> type[PDEProblem]:
    """The problem whose samples the :mod:`sciml.data_gen` generator ``generator`` writes."""
    for cls in PROBLEM_TYPES.values():
        if cls.generator == generator:
            return cls
    known = ", ".join(f"{c.generator} ({c.name})" for c in PROBLEM_TYPES.values())
    raise DataFileError(f"{source} was written by generator {generator!r}, which holds no "
                        f"problem sciml knows; known generators: {known}; pass problem=NAME")


__all__ = ["Burgers1D", "Convection1D", "DarcyFlow", "DarcyInverse", "LinearProblem",
           "PDEProblem", "PROBLEM_TYPES", "PeriodicEvolution", "Poisson", "assemble_darcy",
           "problem_type", "problem_type_for_generator"]
