"""Persistence: HDF5 data sets (:mod:`.datasets`), torch checkpoints (:mod:`.checkpoint`)
and the atomic file publication both use (:mod:`.atomic`)."""
