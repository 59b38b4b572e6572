"""``python -m sciml.data_gen <generator> ...``: the same command as ``sciml datagen``."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a spawned worker process re-imports the main module
    sys.exit(main(sys.argv[1:]))
