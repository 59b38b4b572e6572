"""Classical baselines: sciml's own CG (NumPy/CuPy, matrix-free), SciPy CG, pyamg, direct."""
