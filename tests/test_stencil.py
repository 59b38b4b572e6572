"""The matrix-free operator equals the assembled matrix, on every slab split."""

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sciml.backend import cupy_available
from sciml.kernels.stencil import StencilOperator

shapes = st.lists(st.integers(1, 9), min_size=1, max_size=3).map(tuple)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, variable=st.booleans(), seed=st.integers(0, 2**31 - 1),
       target=st.integers(1, 200))
def test_matrix_free_product_equals_csr_for_any_slab_split(shape, variable, seed, target):
    rng = np.random.default_rng(seed)
    k = rng.uniform(0.1, 10.0, shape) if variable else None
    op = StencilOperator(shape, k)
    A = op.to_csr()
    x = rng.standard_normal(op.shape[0])
    y = np.empty_like(x)
    for start, stop in op.slabs(target):
        op.apply_slab(x.reshape(shape), y.reshape(shape), start, stop)
    assert np.allclose(y, A @ x, rtol=1e-13, atol=1e-12)
    assert np.allclose(op.matvec(x), A @ x, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("shape", [(17,), (9, 11), (5, 7, 6)])
def test_operator_is_symmetric_positive_definite(shape):
    rng = np.random.default_rng(0)
    A = StencilOperator(shape, rng.uniform(0.5, 2.0, shape)).to_csr().toarray()
    assert np.allclose(A, A.T)
    assert np.linalg.eigvalsh(A).min() > 0


def test_float32_operator_keeps_its_dtype():
    op = StencilOperator((6, 6), dtype=np.float32)
    x = np.ones(36, dtype=np.float32)
    assert op.matvec(x).dtype == np.float32 and op.to_csr().dtype == np.float32


def test_cuda_kernel_source_compiles_with_nvcc(tmp_path):
    """The CuPy stencil kernel is valid CUDA C (checked with nvcc where it is installed)."""
    from sciml.kernels.cuda_stencil import stencil_source

    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not installed")
    for dtype in ("float32", "float64"):
        src = tmp_path / f"stencil_{dtype}.cu"
        src.write_text(stencil_source(dtype))
        result = subprocess.run([nvcc, "-c", str(src), "-o", str(tmp_path / f"{dtype}.o")],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("shape, variable", [((33,), False), ((20, 17), True),
                                             ((9, 10, 11), False), ((9, 10, 11), True)])
def test_cuda_stencil_equals_numpy(shape, variable):
    import cupy

    rng = np.random.default_rng(1)
    k = rng.uniform(0.5, 2.0, shape) if variable else None
    op = StencilOperator(shape, k)
    x = rng.standard_normal(op.shape[0])
    gpu = op.to(cupy).matvec(cupy.asarray(x))
    assert np.allclose(cupy.asnumpy(gpu), op.matvec(x), rtol=1e-12, atol=1e-12)
    # the array-namespace code path (whole grid as one slab) agrees too
    y = cupy.empty_like(gpu)
    op.to(cupy).apply_slab(cupy.asarray(x).reshape(shape), y.reshape(shape), 0, shape[0])
    assert np.allclose(cupy.asnumpy(y), op.matvec(x), rtol=1e-12, atol=1e-12)
