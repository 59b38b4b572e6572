"""Generators of the standard PDE data sets, written as self-describing HDF5 (:mod:`sciml.io`).

=================  ==================================================================
:mod:`.grf`        Gaussian random fields ``N(0, sigma^2 (-Laplacian + tau^2)^-alpha)``
:mod:`.darcy`      Darcy flow, FNO's smooth, MgNO's rough and DGNO's two-phase families
:mod:`.burgers`    FNO's viscous Burgers set (ETDRK4 pseudo-spectral)
:mod:`.poisson`    sources and solutions for :class:`sciml.problems.Poisson`
:mod:`.convection` exact periodic convection-diffusion (the PINN benchmark)
:mod:`.runner`     the shared seeded, chunked, resumable, parallel loop
:mod:`.cli`        the ``sciml datagen`` / ``python -m data_gen`` command
=================  ==================================================================

Each generator has ``solve`` (the numerical method) and ``generate(out, samples, ...)``
(a data set). data_gen uses the core (:mod:`sciml`); the core never imports data_gen.
"""
