"""PETSc's Krylov solvers and preconditioners through petsc4py (optional dependency).

``runtime.py`` imports petsc4py on first use (with the install recipes when it is absent),
``assembly.py`` builds each process's rows of the matrix, ``solver.py`` is the ``petsc``
method. Nothing here imports petsc4py at import time.
"""
