"""Learning: the shared training loop (:mod:`.trainer`), losses, normalisers, operator data
pairs and the trained-model record (:mod:`.trained_model`). torch is imported lazily."""
