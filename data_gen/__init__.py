"""Generators of the standard PDE data sets (installed as ``sciml.data_gen``), written as self-describing HDF5 (:mod:`sciml.io.datasets`).

=================  ==================================================================
:mod:`.grf`        Gaussian random fields ``N(0, sigma^2 (-Laplacian + tau^2)^-alpha)``
:mod:`.darcy`      Darcy flow, FNO's smooth, MgNO's rough and DGNO's two-phase families
:mod:`.burgers`    FNO's viscous Burgers set (ETDRK4 pseudo-spectral)
:mod:`.poisson`    sources and solutions for :class:`sciml.problems.Poisson`
:mod:`.convection` exact periodic convection-diffusion (the PINN benchmark)
:mod:`.runner`     the shared seeded, chunked, resumable, parallel loop
:mod:`.cli`        the ``sciml datagen`` / ``python -m sciml.data_gen`` command
=================  ==================================================================

Each generator has ``solve`` (the numerical method) and ``generate(out, samples, ...)``
(a data set). data_gen uses the core (:mod:`sciml`); the core never imports data_gen.
"""

if __name__ != "sciml.data_gen":  # the source folder imported as a top-level package
    raise ImportError(
        "the 'data_gen' folder of the sciml source tree installs as 'sciml.data_gen': import "
        "sciml.data_gen (and install the package with pip install -e .), not data_gen")
