"""Physics-informed networks for periodic 1-D evolution problems: ``pinn`` and ``lpinn``.

One module per job: :mod:`.networks` (the MLP and its periodic input), :mod:`.sampling`
(collocation points), :mod:`.initial` (a differentiable ``u0``), :mod:`.training` (the
optimiser stages), :mod:`.grid` (Lagrangian to Eulerian), :mod:`.solver` (the face both
methods share), :mod:`.pinn` and :mod:`.lpinn` (the two methods' losses).
"""
