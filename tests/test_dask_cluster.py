"""Bootstraps on a real multi-process dask cluster (scheduler and workers in their own processes,
on 127.0.0.1): everything a draw needs is pickled, sent and rebuilt in another interpreter, and
the draws equal the serial run's with the same seed.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import semlang
from semlang.results.bootstrap import bootstrap_task, run_bootstrap
from semlang.results.bootstrap_lavaan import chisq_statistic

distributed = pytest.importorskip("dask.distributed")

ROOT = Path(__file__).resolve().parents[1]
HS = semlang.datasets.load("HolzingerSwineford1939")
MODEL = """
visual  =~ x1 + a*x2 + b*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
ratio := b / a
"""
R = 40


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (one thread each) beside a scheduler process; always closed.

    The workers import this checkout's semlang (its root first on their PYTHONPATH) and use one
    BLAS thread each."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {"PYTHONPATH": path, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with (
        warnings.catch_warnings(),
        distributed.LocalCluster(
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            env=env,
        ) as local,
    ):
        warnings.simplefilter("ignore")
        yield local


@pytest.fixture(scope="module")
def serial():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semlang.cfa(MODEL, HS, group="school", se="bootstrap", bootstrap=R, seed=11,
                          executor="serial")  # fmt: skip
        fit.estimates()
    return fit


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def test_workers_are_other_processes_with_this_semlang(cluster):
    with distributed.Client(cluster) as client:
        found = client.run(lambda: (os.getpid(), semlang.__file__))
    pids = {pid for pid, _ in found.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {path for _, path in found.values()} == {semlang.__file__}


def test_bootstrap_through_a_client_equals_the_serial_run(cluster, serial):
    with distributed.Client(cluster) as client:
        fit = semlang.cfa(MODEL, HS, group="school", se="bootstrap", bootstrap=R, seed=11,
                          executor=client)  # fmt: skip
        table = quiet(fit.estimates)
        assert fit.bootstrap.n_completed == serial.bootstrap.n_completed == R
    np.testing.assert_array_equal(fit.bootstrap.theta, serial.bootstrap.theta)
    expected = serial.estimates()
    for column in ("se", "ci_lower", "ci_upper"):
        assert table[column].tolist() == expected[column].tolist()


def test_bootstrap_through_the_scheduler_address_equals_the_serial_run(cluster, serial):
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    fit = semlang.cfa(MODEL, HS, group="school", se="bootstrap", bootstrap=R, seed=11,
                      executor=address)  # fmt: skip
    np.testing.assert_array_equal(quiet(lambda: fit.bootstrap).theta, serial.bootstrap.theta)
    again = quiet(run_bootstrap, serial, executor=address, chunk_size=3)
    np.testing.assert_array_equal(again.defined, serial.bootstrap.defined)


def test_bollen_stine_draws_on_the_cluster_equal_the_serial_draws(cluster):
    fit = semlang.cfa(MODEL, HS)
    here = quiet(semlang.bootstrap, fit, chisq_statistic, type="bollen.stine", R=R, seed=3,
                 executor="serial")  # fmt: skip
    there = quiet(semlang.bootstrap, fit, chisq_statistic, type="bollen.stine", R=R, seed=3,
                  executor=cluster.scheduler_address)  # fmt: skip
    np.testing.assert_array_equal(there.draws, here.draws)
    assert there.n_completed == R


def test_nothing_live_travels_in_a_task(cluster):
    """A fit made with a client keeps it as a run-time setting only: the task the workers get
    holds no client, and it pickles with the standard library too (lambdified functions are
    dropped and rebuilt on first use)."""
    with distributed.Client(cluster) as client:
        fit = semlang.cfa(MODEL, HS, se="bootstrap", bootstrap=R, seed=1, executor=client)
        assert fit.run.executor is client
        task = bootstrap_task(fit)
        fit.model.implied(fit.theta, fit.estimation.objective.exo)  # functions compiled here
        payload = pickle.dumps(task)
    assert b"distributed" not in payload and b"Client" not in payload
    copy = pickle.loads(payload)
    rng = np.random.default_rng
    np.testing.assert_array_equal(copy(0, rng(5))["theta"], task(0, rng(5))["theta"])
