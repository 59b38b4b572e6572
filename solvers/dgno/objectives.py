"""Training objectives of the DGNO family: DGNO's weak form and the two baselines.

* ``"weak"`` -- DGNO (Zang & Koutsourelakis 2025, Eq. 23): the mixed-form CSRBF weak
  residual of :mod:`.weak_form` plus the reconstruction loss of ``a`` from the latent code
  (binary cross-entropy of the phase for two-phase media, squared error else). No
  solutions are used.
* ``"strong_fd"`` -- the physics-informed DeepONet/MultiONet baseline (Wang, Wang,
  Perdikaris, Science Advances 2021): the 5-point finite-difference residual of
  ``-div(a grad u) = f`` of the predicted ``u`` on the data grid, the same discretisation as
  :func:`sciml.problems.assemble_darcy`. No solutions are used.
* ``"supervised"`` -- relative L2 against labelled solutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import torch

from sciml.learn.losses import RelativeL2

from .model import DGNONetwork, grid_points
from .weak_form import (
    DiskTestFunctions,
    bilinear_sampler,
    disk_quadrature,
    interpolate,
    latin_hypercube,
    mixed_form_loss,
)


@dataclass(frozen=True)
class WeakFormSettings:
    """The CSRBF options: ``centres`` (n_c), ``radius`` (R), ``quadrature`` (m)."""

    centres: int = 100
    radius: float = 0.02
    quadrature: int = 7

    def test_functions(self, generator: torch.Generator | None = None) -> DiskTestFunctions:
        """Test functions on freshly sampled (Latin hypercube) centres."""
        centres = latin_hypercube(self.centres, self.radius, 1.0 - self.radius, generator)
        return DiskTestFunctions(centres, self.radius, _offsets(self.quadrature))


@lru_cache(maxsize=4)
def _offsets(m: int) -> torch.Tensor:
    # the quadrature offsets are the same at every step (cached: never modified)
    return torch.from_numpy(disk_quadrature(m)).float()


def darcy_fd_residual(u: torch.Tensor, a: torch.Tensor, f: float) -> torch.Tensor:
    """``A u - f`` of the 5-point Darcy system at the interior vertices: ``(batch, m, m)``.

    Face coefficients are means of the two vertex values and ``h = 1 / (s - 1)``, exactly
    as :func:`sciml.problems.assemble_darcy` (the boundary values of ``u`` are used as
    given).
    """
    h = 1.0 / (u.shape[-1] - 1)
    face_x = 0.5 * (a[:, 1:, 1:-1] + a[:, :-1, 1:-1])
    face_y = 0.5 * (a[:, 1:-1, 1:] + a[:, 1:-1, :-1])
    flux_x = face_x * (u[:, 1:, 1:-1] - u[:, :-1, 1:-1]) / h
    flux_y = face_y * (u[:, 1:-1, 1:] - u[:, 1:-1, :-1]) / h
    divergence = (flux_x[:, 1:] - flux_x[:, :-1] + flux_y[:, :, 1:] - flux_y[:, :, :-1]) / h
    return -divergence - f


def random_symmetry(fields: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """The same random symmetry of the square (one of the 8 rotations and reflections) of
    every ``(batch, s, s)`` field, drawn from torch's global generator.

    Darcy's problem with a constant source and zero Dirichlet values is invariant under
    them: the solution of the transformed ``a`` is the transformed ``u``.
    """
    turns = int(torch.randint(4, (1,)))
    flip = bool(torch.randint(2, (1,)))
    out = tuple(torch.rot90(x, turns, dims=(1, 2)) for x in fields)
    return tuple(torch.flip(x, dims=(1,)) for x in out) if flip else out


def coefficient_loss(network: DGNONetwork, beta: torch.Tensor, a: torch.Tensor,
                     config: dict[str, Any]) -> torch.Tensor:
    """Reconstruction loss of ``a`` at its grid vertices from ``beta``."""
    output = network.coefficient_output(beta, grid_points(network.grid).to(a))
    target = a.reshape(len(a), -1)
    if config["coefficient"] == "bernoulli":
        low, high = config["phases"]
        return torch.nn.functional.binary_cross_entropy_with_logits(
            output, (target > 0.5 * (low + high)).to(output))
    return (output - (target - config["a_mean"]) / config["a_std"]).pow(2).mean()


def weak_pde_loss(network: DGNONetwork, beta: torch.Tensor, tests: DiskTestFunctions,
                  a_at_points: torch.Tensor, f: float) -> torch.Tensor:
    """The mixed-form weak PDE loss of the decoders at ``beta`` with coefficient values
    ``a_at_points`` ``(batch, points)`` at the test functions' quadrature points."""
    _, grad_u = network.solution_and_gradient(beta, tests.points)
    s = network.flux(beta, tests.points)
    return mixed_form_loss(s, a_at_points * grad_u, tests.residuals(s, f))


Objective = Callable[[DGNONetwork, Any], torch.Tensor]


def make_objective(config: dict[str, Any], settings: WeakFormSettings, *, w_pde: float,
                   w_data: float, augment: bool = False,
                   fixed_tests: DiskTestFunctions | None = None) -> Objective:
    """``loss(network, batch)`` of ``config["objective"]`` for the shared Trainer.

    A batch is ``(a,)`` or, for ``"supervised"``, ``(a, u)``; with ``augment`` each batch is
    first mapped by a random symmetry of the square (:func:`random_symmetry`). The weak
    objective draws new test-function centres at each call (torch's global generator, which
    the Trainer seeds) unless ``fixed_tests`` is given (a deterministic validation metric).
    """
    objective, f = config["objective"], float(config["params"]["f"])
    relative_l2 = RelativeL2()

    def weak(network: DGNONetwork, batch: Any) -> torch.Tensor:
        a = batch[0]
        tests = (fixed_tests or settings.test_functions()).to(a)
        index, weight = bilinear_sampler(tests.points, network.grid)
        beta = network.encode(a)
        pde = weak_pde_loss(network, beta, tests, interpolate(a, index, weight), f)
        return w_pde * pde + w_data * coefficient_loss(network, beta, a, config)

    def strong_fd(network: DGNONetwork, batch: Any) -> torch.Tensor:
        a = batch[0]
        return (darcy_fd_residual(network(a), a, f) / f).pow(2).mean()

    def supervised(network: DGNONetwork, batch: Any) -> torch.Tensor:
        return relative_l2(network(batch[0]), batch[1])

    loss = {"weak": weak, "strong_fd": strong_fd, "supervised": supervised}[objective]
    if not augment:
        return loss

    def augmented(network: DGNONetwork, batch: Any) -> torch.Tensor:
        return loss(network, random_symmetry(tuple(batch)))

    return augmented

