"""``python -m semlang``: the ``semlang`` command (see :mod:`semlang.cli`)."""

import sys

from semlang.cli import main

if __name__ == "__main__":
    sys.exit(main())
