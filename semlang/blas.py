"""BLAS threads inside semlang's own work: one thread for small matrices, the caller's otherwise.

Input: the size of the largest dense matrix a computation works with. Output: a context manager
(:func:`threads_for`) and a decorator (:func:`limited`) that run the work with one BLAS thread
when the matrices are small, and restore the caller's thread counts on return.

Most models have matrices of tens of rows. For those a multi-threaded BLAS (OpenBLAS's default is
one thread per core) only adds synchronisation, and on a machine whose cores are busy its threads
wait for one another: a Holzinger-Swineford CFA took 66 times longer with the default threads than
with one. From :data:`LARGE` rows on, threads can pay and the caller's setting is kept.

The outermost call decides; calls inside it (a fit inside a bootstrap, ``estimates()`` inside
``summary()``) leave the setting alone and cost a counter increment. The thread counts are those
of the BLAS libraries numpy and scipy load (scipy's once it is imported: an ordinary fit does not
need it), changed through threadpoolctl and process-wide, so the first call to enter saves them
and the last to leave restores them, whatever the threads. A BLAS library loaded during a
one-thread block (scipy's, when the work imports scipy) starts with one thread too
(``OPENBLAS_NUM_THREADS`` is 1 while the block runs, which OpenBLAS reads as it loads) and gets
the caller's thread count when the block ends: left at its default, its threads spun beside the
fit's own and cost a first fit of a 100-variable model over a second of CPU on a busy machine.
Worker processes of :mod:`semlang.runner` use one thread for their whole life (:func:`one_thread`).
The ``semlang`` command starts its libraries with one thread (the environment, set before numpy is
imported, :func:`preset_one_thread`): there is nothing to limit, and threadpoolctl is not needed.
"""

from __future__ import annotations

import _thread  # (threading's Lock, without importing threading for `semlang --version`)
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# From this many rows of the largest matrix on, the caller's threads are kept. On a 2-core machine
# with other work running, one thread was as fast or faster at every size measured up to 1200
# rows (benchmarks/blas_threads.py); threads pay for products and decompositions of this size
# only where cores are idle, which the caller knows and semlang does not.
LARGE = 1000

_lock = _thread.allocate_lock()
_depth = 0
_restore: Any = None  # threadpoolctl's limiter of the outermost call, restored on its exit
_controller: Any = None
_with_scipy = False  # whether scipy's BLAS was loaded when the controller was made
_preset = False  # every BLAS library of the process started with one thread
# What OPENBLAS_NUM_THREADS was before the outermost one-thread block set it (None: unset), or
# _UNTOUCHED when the block left it alone (scipy's BLAS already loaded, or threads kept).
_UNTOUCHED = object()
_environment_before: Any = _UNTOUCHED
_loaded_before: set[str] = set()  # the BLAS libraries' files loaded when the block began
_LOADING_THREADS = "OPENBLAS_NUM_THREADS"


def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries: numpy's, and scipy's once scipy is
    imported (an ordinary fit does not import it; the view is made again when it appears)."""
    global _controller, _with_scipy
    scipy_loaded = "scipy.linalg" in sys.modules
    if _controller is None or (scipy_loaded and not _with_scipy):
        import numpy  # noqa: F401 (its BLAS library must be loaded before it is looked up)

        _controller = _new_controller()
        _with_scipy = scipy_loaded
    return _controller


def _new_controller() -> Any:
    """threadpoolctl's ThreadpoolController over the loaded libraries whose file name it would
    take (a BLAS or OpenMP library's, or a symbolic link that may resolve to one): the full
    look-up resolves the path of every loaded library, a hundred or more once pandas is loaded,
    which was some 10 ms of a first fit. Should threadpoolctl's internals differ, its own."""
    import threadpoolctl

    known = getattr(threadpoolctl, "_ALL_CONTROLLERS", None)
    base = threadpoolctl.ThreadpoolController
    if not known or not hasattr(base, "_make_controller_from_path"):
        return base()
    prefixes = tuple(prefix for kind in known for prefix in kind.filename_prefixes)

    class Controller(base):  # type: ignore[misc, valid-type]
        def _make_controller_from_path(self, filepath: str) -> None:
            name = os.path.basename(filepath).lower()
            if name.startswith(prefixes) or os.path.islink(filepath):
                super()._make_controller_from_path(filepath)

    return Controller()


@contextmanager
def threads_for(size: int) -> Iterator[None]:
    """Run the block with one BLAS thread if ``size`` (rows of the largest matrix) is below
    :data:`LARGE`, else with the caller's threads; the caller's setting is restored afterwards."""
    global _depth, _restore
    with _lock:
        _depth += 1
        if _depth == 1 and size < LARGE and not _preset:
            _restore = _blas_controller().limit(limits=1, user_api="blas")
            if not _with_scipy:
                _start_loaded_libraries_on_one_thread()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore is not None:
                _restore.restore_original_limits()
                _give_loaded_libraries_the_callers_threads(_restore)
                _restore = None


def _start_loaded_libraries_on_one_thread() -> None:
    """OpenBLAS reads its thread count from the environment as it loads: one thread for a BLAS
    library (scipy's) that the block's work loads."""
    global _environment_before, _loaded_before
    _environment_before = os.environ.get(_LOADING_THREADS)
    os.environ[_LOADING_THREADS] = "1"
    _loaded_before = {lib.filepath for lib in _blas_controller().lib_controllers}


def _give_loaded_libraries_the_callers_threads(limiter: Any) -> None:
    """Put the environment back and, if a BLAS library was loaded during the block, give it the
    thread count the libraries loaded before had (the caller's setting)."""
    global _environment_before
    if _environment_before is _UNTOUCHED:
        return
    if _environment_before is None:
        os.environ.pop(_LOADING_THREADS, None)
    else:
        os.environ[_LOADING_THREADS] = _environment_before
    _environment_before = _UNTOUCHED
    if "scipy.linalg" not in sys.modules:
        return
    callers = limiter.get_original_num_threads().get("blas")
    controller = _blas_controller()
    for lib in controller.info():
        if lib["user_api"] == "blas" and lib["filepath"] not in _loaded_before and callers:
            controller.select(filepath=lib["filepath"]).limit(limits=callers)


def limited(size_of: Callable[..., int] | None = None) -> Callable[[F], F]:
    """Decorate a function so it runs inside :func:`threads_for`; ``size_of(*args, **kwargs)``
    gives the size (by default 0: always one thread)."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _depth:  # inside semlang's work already: the outer call decided
                return function(*args, **kwargs)
            size = size_of(*args, **kwargs) if size_of is not None else 0
            with threads_for(size):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def preset_one_thread() -> None:
    """Every BLAS library of this process starts with one thread (the environment asked for one
    before numpy was imported): limiting is a no-op, so threadpoolctl is neither imported nor
    asked to find the loaded libraries (some 5 ms of a command's start-up)."""
    global _preset
    _preset = True


def one_thread() -> None:
    """One BLAS thread from now on (for worker processes, which run many small fits at once)."""
    _blas_controller().limit(limits=1, user_api="blas")


def fit_size(model: Any, options: Any = None) -> int:
    """Rows of the largest matrix a fit of ``model`` works with: the RAM matrices, the
    information matrix, and for estimators and corrections that need them, the weight matrices
    of the sample moments (p(p+1)/2 rows, plus p with means)."""
    ram = max((layout.n for layout in model.layouts), default=0)
    size = max(ram, model.n_theta)
    if options is not None and _needs_moment_matrices(options):
        p = max((layout.n_observed for layout in model.layouts), default=0)
        size = max(size, p * (p + 1) // 2 + p)
    return size


def _needs_moment_matrices(options: Any) -> bool:
    from semlang.options import Estimator, StandardErrors, Test

    plain = (StandardErrors.STANDARD, StandardErrors.NONE)
    return (
        options.estimator is not Estimator.ML
        or options.se not in plain
        or any(test not in (Test.STANDARD, Test.NONE) for test in _tests(options))
    )


def _tests(options: Any) -> tuple:
    test = options.test
    return tuple(test) if isinstance(test, tuple | list) else (test,)
