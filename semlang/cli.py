"""The ``semlang`` command: ``semlang fit | check | parse | diagram | ...``.

Input: the command-line arguments. Output: text on stdout (results) and stderr (errors and
warnings), and the exit status: 0 success, 1 the model did not converge (results are still
printed), 2 a user error (bad model, data or option; the message says where and how to fix it),
3 an internal error (a bug; ``--debug`` shows the traceback), 130 or 143 stopped by Ctrl-C or
SIGTERM (worker processes ended, results files kept).

The subcommands live in :mod:`semlang.commands`, one module each, and are found there at start-up;
this module only prepares the process and hands over. The models are small, so numpy runs with
one BLAS thread (set before numpy is first imported; a value already in the environment wins).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``semlang`` with ``argv`` (default: the process's arguments); return the exit status."""
    fresh = "numpy" not in sys.modules
    for name in _BLAS_THREADS:
        os.environ.setdefault(name, "1")
    if fresh and all(os.environ[name] == "1" for name in _BLAS_THREADS):
        from semlang import blas

        blas.preset_one_thread()  # (numpy's BLAS will start with one thread: nothing to limit)
    from semlang.commands import run  # imports numpy: after the thread settings

    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
