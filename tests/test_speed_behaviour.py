"""Speed as users get it, tested by behaviour (never by time): BLAS threads limited inside
semlang's work and restored after it, worker processes on one thread, start-up that loads no
numerical library for ``--version``/``--help`` and no sympy for a model that needs none, and the
progress display shown or hidden as it should be."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from threadpoolctl import ThreadpoolController

import semlang
from semlang import blas
from semlang.runner import progress as progress_module
from semlang.runner import run_replications

ROOT = Path(__file__).resolve().parents[1]
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def blas_threads() -> list[int]:
    """The thread count of every BLAS library loaded (numpy's and scipy's)."""
    import scipy.linalg  # noqa: F401 (its BLAS too)

    controllers = ThreadpoolController().select(user_api="blas").lib_controllers
    return [lib.num_threads for lib in controllers]


@pytest.fixture
def two_threads():
    """The caller's setting: two BLAS threads (restored after the test)."""
    import scipy.linalg  # noqa: F401

    with ThreadpoolController().limit(limits=2, user_api="blas"):
        assert set(blas_threads()) == {2}
        yield


@pytest.fixture(autouse=True)
def _tasks_importable(monkeypatch):
    """Workers started with spawn import this module (and its task) by name."""
    monkeypatch.syspath_prepend(str(ROOT))


def report_threads(index, rng):
    return {"threads": blas_threads()}


def test_a_fit_runs_on_one_thread_and_restores_the_callers(two_threads, monkeypatch):
    import semlang.api
    import semlang.results.table

    seen = {}
    estimate, estimates_frame = semlang.api.estimate, semlang.results.table.estimates_frame

    def estimating(*args, **kwargs):
        seen["estimate"] = blas_threads()
        return estimate(*args, **kwargs)

    def tabulating(*args, **kwargs):
        seen["estimates"] = blas_threads()
        return estimates_frame(*args, **kwargs)

    monkeypatch.setattr(semlang.api, "estimate", estimating)
    monkeypatch.setattr(semlang.results.table, "estimates_frame", tabulating)
    fit = semlang.cfa(HS, semlang.datasets.load("HolzingerSwineford1939"))
    assert set(seen["estimate"]) == {1}
    assert set(blas_threads()) == {2}
    fit.estimates()  # a lazy result: limited too
    assert set(seen["estimates"]) == {1}
    assert set(blas_threads()) == {2}


def test_the_setting_is_restored_when_the_fit_fails(two_threads):
    with pytest.raises(semlang.UnknownVariableError):
        semlang.cfa("f =~ x1 + x2 + nothing", semlang.datasets.load("HolzingerSwineford1939"))
    assert set(blas_threads()) == {2}


def test_large_work_keeps_the_callers_threads_and_the_outer_call_decides(two_threads):
    with blas.threads_for(blas.LARGE):
        assert set(blas_threads()) == {2}
    with blas.threads_for(0):
        assert set(blas_threads()) == {1}
        with blas.threads_for(blas.LARGE):  # inside small work: the outer decision stands
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}  # the inner exit restored nothing
    assert set(blas_threads()) == {2}


def test_fit_size_counts_the_largest_matrix():
    compiled = semlang.compile_model(HS, "cfa")
    assert blas.fit_size(compiled) == 21  # 21 free parameters > 12 RAM variables
    from semlang.options import make_fit_options

    robust = make_fit_options(compiled.table.options, estimator="MLR")
    assert blas.fit_size(compiled, robust) == 9 * 10 // 2 + 9  # the moments' weight matrix


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_replications_run_on_one_thread(two_threads, executor):
    out = run_replications(report_threads, 2, 1, executor=executor, n_jobs=1, progress=False)
    assert [set(r["threads"]) for r in out.results] == [{1}, {1}]
    assert set(blas_threads()) == {2}


def _modules_after(code: str) -> set[str]:
    """The numerical libraries a fresh interpreter has imported after running ``code``."""
    probe = (
        f"import sys\n{code}\n"
        "print('MODULES:', *(m for m in ('numpy', 'pandas', 'scipy', 'sympy', 'networkx') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    last = done.stdout.splitlines()[-1]
    assert last.startswith("MODULES:")
    return set(last.split()[1:])


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_load_no_numerical_library(argument):
    code = f"from semlang.cli import main\nmain([{argument!r}])"
    assert _modules_after(code) == set()


def test_check_loads_no_numerical_library_nor_networkx(tmp_path):
    model = tmp_path / "hs.sem"
    model.write_text(HS)
    code = f"from semlang.cli import main\nmain(['check', {str(model)!r}])"
    assert _modules_after(code) == set()


def test_a_model_without_definitions_or_constraints_needs_no_sympy():
    code = (
        "import semlang\n"
        f"fit = semlang.cfa({HS!r}, semlang.datasets.load('HolzingerSwineford1939'))\n"
        "fit.estimates(); fit.fit_measures()"
    )
    assert "sympy" not in _modules_after(code)


def test_an_ordinary_fit_and_its_results_need_no_scipy():
    code = (
        "import semlang\n"
        f"fit = semlang.cfa({HS!r}, semlang.datasets.load('HolzingerSwineford1939'))\n"
        "fit.estimates(); fit.fit_measures(); fit.summary()"
    )
    assert _modules_after(code) == {"numpy", "pandas"}


def test_the_fit_command_needs_no_scipy(tmp_path):
    model = tmp_path / "hs.sem"
    model.write_text(HS)
    data = ROOT / "semlang" / "datasets" / "HolzingerSwineford1939.csv"
    code = f"from semlang.cli import main\nmain(['fit', {str(model)!r}, {str(data)!r}, '--cfa'])"
    assert _modules_after(code) == {"numpy", "pandas"}


def test_complete_data_imports_none_of_fimls_modules():
    probe = (
        "import sys, numpy as np, semlang\n"
        "data = semlang.datasets.load('HolzingerSwineford1939')\n"
        f"semlang.cfa({HS!r}, data)\n"
        "print('FIML:', 'semlang.estimate.fiml_objective' in sys.modules)\n"
        "data.loc[0, 'x1'] = np.nan\n"
        f"semlang.cfa({HS!r}, data, missing='ml')\n"
        "print('FIML:', 'semlang.estimate.fiml_objective' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert [line for line in done.stdout.splitlines() if line.startswith("FIML:")] == [
        "FIML: False",
        "FIML: True",
    ]


def test_the_controller_finds_the_blas_libraries_threadpoolctl_finds():
    import scipy.linalg  # noqa: F401 (its BLAS too)

    def libraries(controller):
        return sorted((lib["filepath"], lib["internal_api"]) for lib in controller.info())

    assert libraries(blas._new_controller()) == libraries(ThreadpoolController())
    assert any(api == "openblas" for _, api in libraries(blas._new_controller()))


def test_scipys_blas_is_limited_too_once_it_is_imported(two_threads):
    # (the fixture has imported scipy.linalg; a controller made before that is made again)
    blas._controller, blas._with_scipy = None, False
    with blas.threads_for(0):
        assert set(blas_threads()) == {1}
    assert blas._with_scipy and set(blas_threads()) == {2}


SCIPY_LOADED_IN_A_BLOCK = """
import json, os, numpy
from threadpoolctl import ThreadpoolController
from semlang import blas
def threads():
    libraries = ThreadpoolController().select(user_api="blas").info()
    return sorted(lib["num_threads"] for lib in libraries)
before = threads()
with blas.threads_for(0):
    import scipy.linalg
    inside = threads()
after = threads()
print(json.dumps([before, inside, after, os.environ.get("OPENBLAS_NUM_THREADS")]))
"""


@pytest.mark.parametrize("setting", [None, "2"])
def test_a_blas_library_loaded_inside_a_block_starts_on_one_thread(setting):
    """scipy's BLAS, loaded by the work of a one-thread block, runs that block on one thread and
    then gets the caller's thread count; the environment is left as it was."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    if setting is not None:
        env["OPENBLAS_NUM_THREADS"] = setting
    done = subprocess.run(
        [sys.executable, "-c", SCIPY_LOADED_IN_A_BLOCK],
        capture_output=True, text=True, check=True, cwd=ROOT, env=env,
    )  # fmt: skip
    before, inside, after, variable = json.loads(done.stdout)
    callers = before[0]
    assert len(before) == 1 and len(after) == 2
    assert inside == [1, 1]
    assert after == [callers, callers]
    assert variable == setting


def test_a_long_fit_shows_its_clock_when_asked(monkeypatch, capsys):
    monkeypatch.setattr(progress_module, "LONG_WORK_DELAY", 0.0)
    data = semlang.datasets.load("HolzingerSwineford1939")
    semlang.cfa(HS, data)  # stderr is captured, not a terminal: quiet
    assert capsys.readouterr().err == ""
    semlang.cfa(HS, data, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\rfitting the model: ")
    assert err.rstrip(" \n").split("\r")[-1].startswith("fitting the model: done in 0:0")
    assert err.endswith("\n")


def test_a_quick_block_shows_nothing():
    stream = io.StringIO()
    with progress_module.long_work("fitting", True, stream):
        pass
    assert stream.getvalue() == ""


def test_progress_is_shown_by_default_in_a_notebook(monkeypatch):
    assert not progress_module.wanted(None, sys.stderr)  # captured by pytest
    shell = type("ZMQInteractiveShell", (), {})()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert progress_module.in_notebook()
    assert progress_module.wanted(None, sys.stderr)
    assert not progress_module.wanted(False, sys.stderr)
    assert not progress_module.wanted(None, io.StringIO())  # only stderr is the notebook's
    fake.get_ipython = lambda: None  # IPython imported, but in a terminal
    assert not progress_module.wanted(None, sys.stderr)
