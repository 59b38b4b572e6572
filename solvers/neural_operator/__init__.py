"""What every operator-learning method shares (MgNO, FNO, ...): data, training, prediction,
the learned-guess + Krylov hybrids and the training command line."""
