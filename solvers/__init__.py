"""One subpackage per method family; each registers its Solver classes in
:data:`sciml.registry.BUILTIN_METHODS` and is imported only when first used."""
