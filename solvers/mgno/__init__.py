"""MgNO: the multigrid neural operator (He, Liu, Xu, ICLR 2024)."""
