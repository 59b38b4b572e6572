"""What every operator-learning method shares (MgNO, FNO, ...): data, training, prediction,
and the training command line."""
