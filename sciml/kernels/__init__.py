"""Array kernels of the core: the structured-grid stencil operator (:mod:`.stencil`) and its
CUDA kernel (:mod:`.cuda_stencil`, CuPy imported only on the GPU path)."""
