"""sciml's methods, one subpackage per family, installed as ``sciml.solvers``.

Each family registers its Solver classes in :data:`sciml.registry.BUILTIN_METHODS` and is
imported only when first used.
"""

if __name__ != "sciml.solvers":  # the source folder imported as a top-level package
    raise ImportError(
        "the 'solvers' folder of the sciml source tree installs as 'sciml.solvers': import "
        "sciml.solvers (and install the package with pip install -e .), not solvers")
