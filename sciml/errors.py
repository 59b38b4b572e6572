"""Exceptions raised by sciml.

Every error sciml raises on purpose derives from :class:`SciMLError`, and also from the
built-in exception a Python user would expect (``ValueError`` for bad values, ``TypeError``
for bad types, ``KeyError`` for unknown names), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class SciMLError(Exception):
    """Base class of every error sciml raises deliberately."""


class InvalidProblemError(SciMLError, ValueError):
    """A problem's data is malformed: wrong shapes, NaN/Inf, empty, non-square."""


class UnsupportedTypeError(SciMLError, TypeError):
    """An argument has a type or dtype sciml cannot work with."""


class UnknownMethodError(SciMLError, KeyError):
    """A method name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message; show it plainly
        return str(self.args[0]) if self.args else ""


class InvalidOptionError(SciMLError, TypeError):
    """An option a method does not accept, or one that was removed (such as ``tol``)."""


class DataFileError(SciMLError, ValueError):
    """An HDF5 data set or checkpoint that is truncated, foreign or mis-shaped."""


class ModelMismatchError(SciMLError, ValueError):
    """Trained weights used on a problem they were not made for."""


class UsageError(SciMLError, ValueError):
    """A command-line or API call that is used the wrong way (a missing name, a bad flag)."""


class InsufficientMemoryError(SciMLError, MemoryError):
    """A computation that does not fit in the memory available: refused up front with the
    estimate and the available memory, or an allocation that failed on the way."""


class DistributedError(SciMLError, RuntimeError):
    """A multi-process run that cannot go on: a process died, did not answer within the
    collective timeout, or failed on its own input (the others stop too, naming it)."""


class MissingDependencyError(SciMLError, ImportError):
    """An optional dependency a method needs is not importable; the message says how to
    install it."""
