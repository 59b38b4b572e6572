"""The Fourier neural operator baseline, taken from the neuraloperator library."""
