"""DGNO (Zang & Koutsourelakis 2025): MultiONet decoders from a latent space, trained on
unlabelled coefficients with CSRBF weak residuals; forward and inverse Darcy.

Modules: :mod:`.multionet` (MultiONet, activations, hand-propagated trunk derivatives),
:mod:`.weak_form` (Wendland test functions, disk quadrature, the mixed-form loss),
:mod:`.model` (encoder and decoders), :mod:`.objectives` (DGNO's loss and the baselines'),
:mod:`.train` (training, evaluation), :mod:`.prediction`, :mod:`.inverse`, :mod:`.solver`.
"""
