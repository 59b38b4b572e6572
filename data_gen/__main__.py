"""``python -m data_gen <generator> ...``: the same command as ``sciml datagen``."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
