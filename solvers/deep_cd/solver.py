"""``deep_cd``: the deep conjugate-direction method (Kaneda et al., ICML 2023), safeguarded."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import scipy.sparse as sp

from sciml.backend import array_namespace, to_numpy, torch_device
from sciml.errors import InvalidOptionError, InvalidProblemError, ModelMismatchError
from sciml.problems.linear import LinearProblem
from sciml.memory import deep_cd_bytes, out_of_memory_as_error, require_memory
from sciml.linear_solver import IterationResult, LinearSolver
from sciml.solver_base import LearnedSolver, Option, is_count, one_of
from sciml.kernels.stencil import StencilOperator

WEIGHTS_DIR = Path(__file__).with_name("weights")
#: the iteration from which ``max_fallback_rate`` is checked
RATE_CHECK_FROM = 8
#: directions over which ``handover_rate`` measures the residual's fall
HANDOVER_WINDOW = 8


def _is_fraction(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0.0 < value <= 1.0)


def _is_rate(value: Any) -> bool:
    return value is None or (_is_fraction(value) and value < 1.0)


#: what continues the solve once the network is disabled (see :class:`DeepCD`)
FALLBACKS = ("auto", "amg", "cg")
#: how the network's coarse levels are built (see :class:`DeepCD`)
COARSENING_OPTIONS = ("auto", "rediscretise", "galerkin", "smoothed")
#: ``coarsening="auto"`` takes the smoothed transfers' Galerkin levels above this contrast
GALERKIN_CONTRAST = 10.0
#: the shipped weights per coarsening (``{ndim}``: 2 or 3)
DEFAULT_WEIGHTS = {"rediscretise": "multigrid_{ndim}d.pt",
                   "galerkin": "multigrid_{ndim}d_galerkin.pt",
                   "smoothed": "multigrid_{ndim}d_smoothed.pt"}


class _Setup:
    """What :meth:`DeepCD.setup` prepares once per system."""

    def __init__(self, model: Any, grid: Any, device: Any, lam_max: float | None,
                 solid: np.ndarray | None, singular: bool, fallback: str) -> None:
        self.model = model
        self.grid = grid
        self.device = device
        self.lam_max = lam_max
        self.solid = solid
        self.singular = singular
        self.fallback = fallback
        self.amg: Any = None  # the fallback's hierarchy, built the first time it is needed


class DeepCD(LinearSolver, LearnedSolver):
    """Deep conjugate-direction method: a network proposes each search direction.

    Options (besides the shared ``rtol, atol, maxiter, x0, callback``):

    ``model``
        A :class:`~sciml.learn.trained_model.TrainedModel`, a path to one, or None for the shipped
        multigrid network of the problem's dimension (``weights/multigrid_3d.pt`` or
        ``weights/multigrid_2d.pt``).
    ``k``
        Number of previous directions each new one is A-orthogonalised against (2).
    ``safeguard``
        Replace a network direction by the CG direction when it is non-finite, not a
        descent direction, or stalls (True).
    ``max_fallbacks``
        After this many consecutive fallback steps the network is no longer called (3).
    ``max_fallback_rate``
        The network is also no longer called once more than this fraction of its directions
        has been rejected, counted from iteration :data:`RATE_CHECK_FROM` on (0.25; 1 turns
        the rule off): a network that fails every third step would otherwise go on costing
        a call per step.
    ``handover_rate``
        With the ``"amg"`` fallback, the network is also no longer called once the residual
        has fallen by less than this factor per direction, on average over the last
        :data:`HANDOVER_WINDOW` directions (0.8; None never): on coefficients unlike its
        training family (nearly isolated inclusions) the network may converge, but at a rate
        SA-PCG beats. The shipped networks reach 1e-6 in 8-12 directions on their families
        (rate about 0.3), so the rule leaves them alone. Not applied with the ``"cg"``
        fallback, whose rate on such systems is worse still.
    ``fallback``
        What finishes the solve once the network is no longer called: ``"cg"``, plain
        conjugate gradients from the current iterate (CG's cost per iteration); ``"amg"``,
        pyamg's smoothed-aggregation PCG from the current iterate (its hierarchy is built
        then, once per prepared operator, and counted in the solve time); ``"auto"``
        (default), ``"amg"`` for a stencil or sparse matrix of a system that is not
        singular, else ``"cg"``.
    ``network``
        False never calls the network: the solve is the fallback's from the start (to
        measure what the network buys).
    ``coarsening``
        How the network's coarse levels get their operators: ``"rediscretise"`` (the mean
        of the fine face coefficients; fast to set up, but it misrepresents coefficients
        that jump inside a coarse cell), ``"galerkin"`` (``2^(2-d) P^T A P`` with the
        cycle's linear interpolation, :mod:`~sciml.solvers.deep_cd.galerkin`; the network
        then works up to contrast 10^6 across connected interfaces, but in 1.6-2.3x SA's
        iterations from 10^3 on), ``"smoothed"`` (the same product with smoothed
        aggregation's interpolation ``(I - w D^-1 A) P_0`` on ``2^d`` blocks, which follows
        the coefficient, and a network whose transfers apply it: SA's iteration counts on
        sine-wave interfaces up to 10^6; coarse stencils of up to ~500 points on the middle
        levels, SciPy products, about 5 s of set-up at 128³), or ``"auto"`` (default): with
        the shipped weights ``"smoothed"`` where the coefficient's largest-to-smallest
        ratio exceeds :data:`GALERKIN_CONTRAST`, else ``"rediscretise"``, each with the
        weights trained for it (:data:`DEFAULT_WEIGHTS`); with ``model=`` the network's
        own. A network built for smoothed transfers runs only on their levels and the
        others only on theirs. Nearly isolated inclusions (thresholded GRFs) remain hard
        for every choice (benchmarks/RESULTS.md). ``sol.info["coarsening"]`` says which ran.
    ``device``
        Torch device of the network (default: CUDA when available, else CPU).
    ``backend``
        Where the Krylov vectors and the operator live: None keeps them where they are
        (NumPy for PDE problems), ``"cupy"`` moves the system to the GPU, as ``cg``'s option
        does, so that with ``device="cuda"`` each iteration stays on the device (the
        residual reaches the network and its direction comes back through DLPack, without
        copies). Then ``fallback="auto"`` means ``"cg"`` (pyamg runs on the CPU). With the
        vectors in NumPy and the network on a GPU, the host's vector work and the copies
        took 90 % of a 256³ solve on an H200 (benchmarks/RESULTS.md, "GPU check"); the CuPy
        path is written against the same array namespace and tested on NumPy, but it has
        not yet been timed on a GPU.

    Notes
    -----
    The method of Kaneda et al. (2023), for SPD (or consistent positive semi-definite)
    systems on a structured grid:

    1. ``r = b - A x0``.
    2. ``q = f(r / ||r||)``, the network applied to the normalised residual.
    3. A-orthogonalise ``q`` against the last ``k`` directions: ``q -= (q.Ap_j / p_j.Ap_j)
       p_j``.
    4. ``alpha = q.r / q.Aq``; ``x += alpha q``; ``r = b - A x`` (the true residual).
    5. Stop by the shared rule ``||r|| <= max(rtol ||b||, atol)``; else go to 2.

    With ``f`` = identity, step 3 turns ``r`` into the CG direction, so the iterates are
    CG's. Where we differ from the paper:

    * Safeguard (the paper has none, and no convergence guarantee): a direction that is NaN
      or Inf, has ``q.r = 0`` (no descent either way; ``q`` is first flipped to ``q.r > 0``,
      since the loss and the line search are blind to its sign), or *stalls* -- lowers the
      energy error by less than ``||r||^2 / lambda`` with ``lambda`` a Gershgorin bound of the
      largest eigenvalue, the least a steepest-descent step achieves -- is replaced by ``r``
      (so the step is the CG step). Every accepted step therefore does at least as well as
      steepest descent's guaranteed decrease, and the method converges on any SPD system.
    * The default network is a learned multigrid V-cycle
      (:class:`~sciml.solvers.deep_cd.model.MultigridNet`) that reads the problem's operator; the
      paper's network is :class:`~sciml.solvers.deep_cd.model.ReferenceNet` (``model=`` its
      weights). On high-contrast coefficients its transfers are smoothed aggregation's
      and its coarse levels their Galerkin products (``coarsening``), as in algebraic
      multigrid, with weights trained on two-phase coefficients of contrast 1 to 10^6.
    * Singular pure-Neumann systems: directions are kept free of the constant null space.
      Solid cells (identity rows) get the exact direction ``r`` there.
    * Once the network is disabled the paper's iteration would go on with ``q = r``
      orthogonalised against ``k`` directions and the true residual recomputed: two
      products with ``A`` per step and, after network directions, no longer CG's short
      recurrence (issue 12 measured 1.8-2.3x plain CG's time at contrast 10^3-10^4).
      Instead the current iterate is handed to ``fallback``.

    ``sol.iterations`` counts directions, the fallback's iterations included;
    ``sol.info`` holds ``network_calls``, ``fallbacks`` (and ``fallbacks_non_finite``,
    ``fallbacks_non_descent``, ``fallbacks_stall``), ``network_disabled_at`` and
    ``network_disabled_by`` (``"rejections"``, ``"slow"`` for ``handover_rate``,
    ``"network=False"``, or None), ``network_seconds`` and, when the fallback ran,
    ``fallback`` ("cg" or "amg"), ``fallback_iterations`` and ``fallback_setup_time`` (the
    AMG hierarchy's set-up).

    References
    ----------
    A. Kaneda, O. Akar, J. Chen, V. A. Trevino Kala, D. Hyde, J. Teran, "A Deep Conjugate
    Direction Method for Iteratively Solving Linear Systems", ICML 2023, arXiv:2205.10763.

    Examples
    --------
    >>> import sciml
    >>> prob = sciml.problems.Poisson(shape=(24, 24, 24), rhs="gaussians")
    >>> sol = sciml.solve(prob, method="deep_cd", rtol=1e-6)
    >>> bool(sol.converged), sol.iterations < 15
    (True, True)
    """

    name = "deep_cd"
    description = ("Deep conjugate-direction method (Kaneda et al. 2023), learned multigrid "
                   "network, safeguarded")
    options: ClassVar[dict[str, Option]] = {
        "model": Option(None), "k": Option(2, is_count(0), "an integer >= 0"),
        "safeguard": Option(True, one_of(True, False), "True or False"),
        "max_fallbacks": Option(3, is_count(1), "an integer >= 1"),
        "max_fallback_rate": Option(0.25, _is_fraction, "a number in (0, 1]"),
        "handover_rate": Option(0.8, _is_rate, "None or a number in (0, 1)"),
        "device": Option(None),
        "fallback": Option("auto", one_of(*FALLBACKS), f"one of {list(FALLBACKS)}"),
        "network": Option(True, one_of(True, False), "True or False"),
        "coarsening": Option("auto", one_of(*COARSENING_OPTIONS),
                             f"one of {list(COARSENING_OPTIONS)}"),
        "backend": Option(None, one_of(None, "numpy", "cupy"), "None, 'numpy' or 'cupy'")}
    prefers_matrix_free = True
    default_weights = str(WEIGHTS_DIR / "multigrid_3d.pt")

    # -- LearnedSolver face -----------------------------------------------------------------
    @classmethod
    def build_network(cls, config: dict[str, Any]) -> Any:
        from .model import build_network  # noqa: PLC0415

        return build_network(config)

    @classmethod
    def train(cls, data: Any = None, **options: Any) -> Any:
        """Train a network (see :func:`sciml.solvers.deep_cd.train.train`); ``data`` unused or an
        HDF5 file of training vectors from :mod:`sciml.data_gen.deep_cd`."""
        from .train import train  # noqa: PLC0415

        return train(data=data, **options)

    @classmethod
    def load_model(cls, model: Any = None, ndim: int = 3,
                   coarsening: str = "rediscretise") -> Any:
        """Resolve ``model=``; the default weights are those for ``ndim`` dimensions and
        ``coarsening`` (:data:`DEFAULT_WEIGHTS`)."""
        if model is None:
            path = WEIGHTS_DIR / DEFAULT_WEIGHTS[coarsening].format(ndim=ndim)
            if not path.exists():
                raise InvalidOptionError(
                    f"deep_cd has no shipped weights for {ndim}-D grids with {coarsening} "
                    f"coarse levels ({path} is missing); pass "
                    f"model=<path or TrainedModel> (train one with sciml.train('deep_cd', "
                    f"shape=...))")
            model = str(path)
        return super().load_model(model)

    # -- LinearSolver face ------------------------------------------------------------------
    def convert(self, lp: LinearProblem, options: dict[str, Any]) -> LinearProblem:
        """Move the system to ``backend``'s namespace when one is named."""
        from sciml.solvers.classical.cg import move_to_backend  # noqa: PLC0415

        return move_to_backend(lp, options["backend"])

    @out_of_memory_as_error("deep_cd (network set-up)")
    def setup(self, lp: LinearProblem, options: dict[str, Any]) -> _Setup:
        import torch  # noqa: PLC0415

        from .model import COARSENINGS, GridStencil, stencil_name  # noqa: PLC0415

        if lp.grid_shape is None:
            raise InvalidProblemError(
                "deep_cd needs a structured grid: its network works on the residual as an "
                "image; give the problem a grid shape (LinearProblem(..., grid_shape=...) or "
                "a PDE problem such as sciml.problems.Poisson)")
        ndim = len(lp.grid_shape)
        op = lp.A if isinstance(lp.A, StencilOperator) else None
        coarsening = options["coarsening"]
        if coarsening == "auto" and options["model"] is None:  # pick the shipped weights
            coarsening = _coarsening_for(op)
        trained = self.load_model(options["model"], ndim, coarsening)
        net_ndim = trained.config.get("ndim", getattr(trained.network, "ndim", None))
        if net_ndim != ndim:
            raise ModelMismatchError(
                f"the deep_cd model was trained for {net_ndim}-D grids "
                f"({stencil_name(net_ndim) if net_ndim in (1, 2, 3) else '?'} stencil), but "
                f"the problem is {ndim}-D ({stencil_name(ndim)} stencil), grid "
                f"{lp.grid_shape}")
        if op is not None and op.grid_shape != lp.grid_shape:
            raise InvalidProblemError(
                f"the operator's grid {op.grid_shape} differs from grid_shape {lp.grid_shape}")
        dev = torch_device(options["device"])
        on_gpu = array_namespace(lp.b) is not np
        if on_gpu and dev.type != "cuda":
            raise InvalidOptionError(
                f"deep_cd: the system is on the GPU (backend='cupy') but the network on "
                f"{dev}; pass device='cuda' so that the vectors never leave the device")
        network = trained.network.to(dev).eval()
        own = getattr(network, "coarsening", COARSENINGS[0])
        if coarsening == "auto":  # with the caller's model: the network's own
            coarsening = own
        if hasattr(network, "coarsening") and (own == "smoothed") != (coarsening == "smoothed"):
            raise InvalidOptionError(
                f"deep_cd: the network was built for {own!r} coarse levels and cannot run on "
                f"{coarsening!r} ones: smoothed transfers and their levels go together; pass "
                f"coarsening={own!r} or 'auto'")
        require_memory(deep_cd_bytes(lp.grid_shape, coarsening),
                       f"deep_cd on the grid {lp.grid_shape} ({coarsening} coarse levels)")
        grid = GridStencil.from_operator(op, lp.grid_shape, torch.float32, dev, coarsening)
        level = grid if options["network"] else None
        while level is not None:  # every level now, so that setup_time counts them
            level = level.coarse
        solid = None if op is None or op.mask is None else to_numpy(op.mask).reshape(-1)
        singular = bool(op is not None and op.singular)
        return _Setup(network, grid, dev,
                      _eigenvalue_bound(lp.A) if options["safeguard"] else None,
                      solid, singular,
                      _fallback_method(lp.A, options["fallback"], singular, on_gpu))

    @out_of_memory_as_error("deep_cd (iteration)")
    def iterate(self, lp: LinearProblem, state: _Setup, options: dict[str, Any], *,
                rtol: float, atol: float, maxiter: int | None,
                callback: Callable[[Any], None] | None) -> IterationResult:
        result = deep_conjugate_directions(
            lp, state, rtol=rtol, atol=atol, maxiter=maxiter, callback=callback,
            k=options["k"], safeguard=options["safeguard"],
            max_fallbacks=options["max_fallbacks"],
            max_fallback_rate=options["max_fallback_rate"],
            handover_rate=options["handover_rate"], network_on=options["network"])
        result.info["coarsening"] = state.grid.coarsening
        return result

    def preconditioner(self, lp: LinearProblem, state: _Setup, options: dict[str, Any]) -> Any:
        """Refused: the network is a nonlinear map of the residual, so it is no fixed
        preconditioner for PCG (deep_cd itself orthogonalises its directions instead)."""
        raise InvalidOptionError(
            "deep_cd gives no preconditioner: its network is a nonlinear function of the "
            "residual, which breaks PCG's fixed-operator assumption; solve with "
            "method='deep_cd' or use amg/direct as M")


def _coarsening_for(op: StencilOperator | None) -> str:
    """``coarsening="auto"`` with the shipped weights: smoothed transfers and their Galerkin
    levels where the coefficient's largest-to-smallest ratio exceeds
    :data:`GALERKIN_CONTRAST`, else rediscretised levels."""
    if op is None or op.coefficient is None:
        return "rediscretise"
    k = to_numpy(op.coefficient)
    if op.mask is not None:
        k = k[~to_numpy(op.mask)]
    return "smoothed" if float(k.max()) > GALERKIN_CONTRAST * float(k.min()) else "rediscretise"


def _has_entries(A: Any) -> bool:
    """Whether ``amg`` can build a hierarchy of ``A`` (it takes a stencil or sparse matrix)."""
    return isinstance(A, StencilOperator) or sp.issparse(A)


def _fallback_method(A: Any, fallback: str, singular: bool, on_gpu: bool = False) -> str:
    """The method ``fallback`` names for this operator ("auto" resolved; "cg" for a system
    on the GPU, since pyamg runs on the CPU).

    Raises
    ------
    InvalidOptionError
        ``fallback="amg"`` for an operator without matrix entries (a LinearOperator), or for
        a system on the GPU.
    """
    if on_gpu:
        if fallback == "amg":
            raise InvalidOptionError("deep_cd: fallback='amg' runs pyamg on the CPU, but the "
                                     "system is on the GPU (backend='cupy'); pass "
                                     "fallback='cg' or 'auto'")
        return "cg"
    if fallback == "amg" and not _has_entries(A):
        raise InvalidOptionError(f"deep_cd: fallback='amg' needs the matrix entries as a "
                                 f"stencil or sparse matrix, not a {type(A).__name__}; pass "
                                 f"fallback='cg'")
    if fallback == "auto":
        return "amg" if _has_entries(A) and not singular else "cg"
    return fallback


def _fallback_solve(lp: LinearProblem, state: _Setup, x: np.ndarray, *, rtol: float,
                    atol: float, maxiter: int,
                    callback: Callable[[Any], None] | None) -> tuple[IterationResult, float]:
    """Finish the solve from ``x`` with ``state.fallback``; its result and set-up seconds."""
    import time  # noqa: PLC0415

    from sciml.solvers.classical.amg import AMG  # noqa: PLC0415
    from sciml.solvers.classical.cg import conjugate_gradient  # noqa: PLC0415
    from sciml.solver_base import check_options  # noqa: PLC0415

    if state.fallback == "cg":
        return conjugate_gradient(lp.A, lp.b, x, rtol=rtol, atol=atol, maxiter=maxiter,
                                  callback=callback), 0.0
    amg = AMG()
    options = check_options(amg.name, {}, amg.options)
    setup = 0.0
    if state.amg is None:
        start = time.perf_counter()
        state.amg = amg.setup(lp, options)
        setup = time.perf_counter() - start
    moved = LinearProblem(lp.A, lp.b, x0=x, grid_shape=lp.grid_shape)
    return amg.iterate(moved, state.amg, options, rtol=rtol, atol=atol, maxiter=maxiter,
                       callback=callback), setup


def _eigenvalue_bound(A: Any) -> float | None:
    """A Gershgorin upper bound of the largest eigenvalue (None for a LinearOperator)."""
    if isinstance(A, StencilOperator):
        return 4.0 * A.ndim if A.diag is None else 2.0 * float(to_numpy(A.diag).max())
    if sp.issparse(A):
        return float(abs(A).sum(axis=1).max())
    if isinstance(A, np.ndarray):
        return float(np.abs(A).sum(axis=1).max())
    return None


def deep_conjugate_directions(lp: LinearProblem, state: _Setup, *, rtol: float, atol: float,
                              maxiter: int | None, callback: Callable[[Any], None] | None,
                              k: int, safeguard: bool, max_fallbacks: int,
                              max_fallback_rate: float = 1.0,
                              handover_rate: float | None = None,
                              network_on: bool = True) -> IterationResult:
    """The DCDM iteration of :class:`DeepCD` (Notes there), returning an IterationResult.

    Once the network is disabled (or from the start with ``network_on=False``) the rest of
    the solve is :func:`_fallback_solve`'s; ``info["network_disabled_by"]`` says which rule
    disabled it ("rejections" or "slow", see :func:`_too_slow`).

    Besides the shared stopping rule, the iteration stops when the true residual stagnates at
    round-off (:func:`_stagnated`: within ``100 eps ||b|| sqrt(n)`` and not halved in 20
    iterations), e.g. for ``rtol=0``; the reason then says "stagnated at round-off" and the
    solve is not converged.
    """
    import time  # noqa: PLC0415

    import torch  # noqa: PLC0415

    A, b = lp.A, lp.b
    xp = array_namespace(b)  # NumPy, or CuPy with backend="cupy": the vectors stay there
    n = b.shape[0]
    maxiter = 10 * n if maxiter is None else maxiter
    x = xp.zeros_like(b) if lp.x0 is None else lp.x0.astype(b.dtype, copy=True)
    r = b - A @ x if lp.x0 is not None else b.copy()
    rnorm = float(xp.linalg.norm(r))
    bnorm = float(xp.linalg.norm(b))
    threshold = max(rtol * bnorm, atol)
    floor = _roundoff(bnorm, n, b.dtype)  # round-off: only _stagnated's rule acts below it
    history = [rnorm]
    previous: deque[tuple[Any, Any, float]] = deque(maxlen=k)
    fallbacks = {"non_finite": 0, "non_descent": 0, "stall": 0}
    calls, streak, net_seconds = 0, 0, 0.0
    disabled_at = None if network_on else 0
    disabled_by = None if network_on else "network=False"
    slow_rule = handover_rate if state.fallback == "amg" else None
    shape = (1, 1, *lp.grid_shape)
    solid = None if state.solid is None else xp.asarray(state.solid)
    fluid = slice(None) if solid is None else ~solid

    def network(residual: Any) -> Any:
        nonlocal calls, net_seconds
        start = time.perf_counter()
        scaled = (residual / float(xp.linalg.norm(residual))).astype(xp.float32)
        with torch.inference_mode():
            out = state.model(_to_torch(scaled, state.device).reshape(shape), state.grid)
        calls += 1
        net_seconds += time.perf_counter() - start
        return _from_torch(out.reshape(-1), xp).astype(b.dtype)

    def conjugate(q: Any, residual: Any) -> Any:
        if solid is not None:
            q[solid] = residual[solid]  # identity rows: the exact direction
        if state.singular:
            q[fluid] -= q[fluid].mean()
        for p, ap, pap in previous:
            q -= (float(q @ ap) / pap) * p
        return q

    def measured(q: Any) -> tuple[Any, Any, float, float]:
        q = conjugate(q, r)
        aq = A @ q
        qr = float(q @ r)
        if qr < 0.0:  # the loss and the line search ignore the sign; keep q.r > 0
            q, aq, qr = -q, -aq, -qr
        return q, aq, qr, float(q @ aq)

    reason = f"maxiter ({maxiter}) reached"
    iterations, hand_over = 0, False
    if rnorm <= threshold:
        return IterationResult(x, 0, history, "converged",
                               _info(calls, fallbacks, (None, None), 0.0))
    for iterations in range(1, maxiter + 1):
        if disabled_at is not None:
            iterations, hand_over = iterations - 1, True
            break
        q = network(r)
        why = "non_finite" if not bool(xp.all(xp.isfinite(q))) else None
        if why is None:
            q, aq, qr, qaq = measured(q)
            if safeguard:
                why = _rejection(qr, qaq, rnorm, state.lam_max)
        if why is not None and not safeguard:
            reason = (f"the network gave a {why.replace('_', '-')} direction at iteration "
                      f"{iterations} (safeguard=False)")
            iterations -= 1
            break
        if why is not None:
            fallbacks[why] += 1
            streak += 1
            q, aq, qr, qaq = measured(r.copy())  # this step is the CG step
        else:
            streak = 0
        rate = sum(fallbacks.values()) / iterations
        if streak >= max_fallbacks or (iterations >= RATE_CHECK_FROM
                                       and rate > max_fallback_rate):
            disabled_at, disabled_by = iterations, "rejections"
        if not qaq > 0.0:
            reason = (f"breakdown: p.Ap = {qaq:.3e} <= 0 at iteration {iterations} (A is not "
                      "symmetric positive definite, or the iteration broke down)")
            iterations -= 1
            break
        x += (qr / qaq) * q
        r = b - A @ x
        rnorm = float(xp.linalg.norm(r))
        history.append(rnorm)
        previous.append((q, aq, qaq))
        if callback is not None:
            callback(x)
        if rnorm <= threshold:
            reason = "converged"
            break
        if disabled_at is None and _too_slow(history, slow_rule, floor):
            disabled_at, disabled_by = iterations, "slow"
        if _stagnated(history, floor):
            reason = (f"stagnated at round-off: ||r|| = {rnorm:.3e} has not decreased by a "
                      f"factor {STAGNATION_FACTOR:g} in {STAGNATION_WINDOW} iterations and "
                      f"is within {ROUNDOFF_MULTIPLE:g} eps ||b|| sqrt(n); the tolerance "
                      f"{threshold:.3e} is below what this precision can reach")
            break
    info = _info(calls, fallbacks, (disabled_at, disabled_by), net_seconds)
    if hand_over:
        rest, setup = _fallback_solve(lp, state, x, rtol=rtol, atol=atol,
                                      maxiter=maxiter - iterations, callback=callback)
        x = rest.x
        reason = (f"maxiter ({maxiter}) reached" if rest.reason.startswith("maxiter")
                  else rest.reason)
        history += list(rest.residual_norms[1:])  # its first entry is the residual handed over
        iterations += rest.iterations
        info.update(fallback=state.fallback, fallback_iterations=rest.iterations,
                    fallback_setup_time=setup)
    return IterationResult(x, iterations, history, reason, info)


#: iterations over which the residual must fall by :data:`STAGNATION_FACTOR` ...
STAGNATION_WINDOW = 20
#: ... once it is within :data:`ROUNDOFF_MULTIPLE` ``eps ||b|| sqrt(n)`` (see :func:`_stagnated`)
STAGNATION_FACTOR = 2.0
ROUNDOFF_MULTIPLE = 100.0


def _stagnated(history: list[float], floor: float) -> bool:
    """Whether the true residual has stagnated at round-off.

    The recomputed residual ``b - A x`` carries a rounding error of about
    ``eps (||b|| + ||A|| ||x||)``, which for the grid operators here is a small multiple of
    ``eps ||b|| sqrt(n)``; below that no step can reliably lower it. The rule: the residual
    is at most ``floor`` (:func:`_roundoff`: ``ROUNDOFF_MULTIPLE eps ||b|| sqrt(n)``) and the
    smallest residual of the last ``STAGNATION_WINDOW`` iterations is not
    ``STAGNATION_FACTOR`` times below the smallest one before them. Far above round-off the rule never fires, so a slow but progressing solve
    runs on to its tolerance or ``maxiter``.
    """
    if len(history) <= STAGNATION_WINDOW or history[-1] > floor:
        return False
    recent, before = history[-STAGNATION_WINDOW:], history[:-STAGNATION_WINDOW]
    return min(recent) * STAGNATION_FACTOR > min(before)


def _to_torch(array: Any, device: Any) -> Any:
    """A NumPy or CuPy vector as a torch tensor on ``device`` (CuPy: shared through DLPack,
    no copy when ``device`` is its GPU)."""
    import torch  # noqa: PLC0415

    if isinstance(array, np.ndarray):
        return torch.from_numpy(array).to(device)
    return torch.from_dlpack(array).to(device)


def _from_torch(tensor: Any, xp: Any) -> Any:
    """A torch tensor as an array of namespace ``xp`` (NumPy: copied to the host; CuPy:
    shared through DLPack, the tensor being on the GPU)."""
    if xp is np:
        return tensor.cpu().numpy()
    return xp.from_dlpack(tensor.contiguous())


def _roundoff(bnorm: float, n: int, dtype: np.dtype) -> float:
    """``ROUNDOFF_MULTIPLE eps ||b|| sqrt(n)``: below it the residual is round-off."""
    eps = float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else 2.2e-16
    return ROUNDOFF_MULTIPLE * eps * bnorm * float(np.sqrt(n))


def _too_slow(history: list[float], handover_rate: float | None, floor: float = 0.0) -> bool:
    """Whether the residual fell by less than ``handover_rate`` per direction, on average
    (geometric mean) over the last :data:`HANDOVER_WINDOW` directions; never when
    ``handover_rate`` is None, nor at or below ``floor`` (round-off, where
    :func:`_stagnated` decides and no fallback would do better)."""
    if handover_rate is None or len(history) <= HANDOVER_WINDOW or history[-1] <= floor:
        return False
    factor = history[-1] / history[-1 - HANDOVER_WINDOW]
    return factor > handover_rate ** HANDOVER_WINDOW


def _rejection(qr: float, qaq: float, rnorm: float, lam_max: float | None) -> str | None:
    """Why the safeguard rejects a direction with ``q.r = qr``, ``q.Aq = qaq``, or None.

    The exact line search along ``q`` lowers the A-norm of the error squared by
    ``qr^2 / qaq``; steepest descent lowers it by at least ``||r||^2 / lambda_max``. A
    direction doing worse than that bound has stalled.
    """
    if not (qr > 0.0 and qaq > 0.0):  # q.r = 0 (after the sign flip): no progress possible
        return "non_descent"
    if lam_max is not None and qr * qr / qaq < rnorm * rnorm / lam_max:
        return "stall"
    return None


def _info(calls: int, fallbacks: dict[str, int], disabled: tuple[int | None, str | None],
          seconds: float) -> dict[str, Any]:
    return {"network_calls": calls, "fallbacks": sum(fallbacks.values()),
            **{f"fallbacks_{why}": count for why, count in fallbacks.items()},
            "network_disabled_at": disabled[0], "network_disabled_by": disabled[1],
            "network_seconds": seconds}
