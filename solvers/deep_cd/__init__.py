"""deep_cd: the deep conjugate-direction method (Kaneda et al., ICML 2023, arXiv:2205.10763).

``model.py`` holds the networks, ``solver.py`` the registered :class:`DeepCD` solver,
``train.py`` the training data, loss and command line; ``weights/`` the shipped weights.
"""
