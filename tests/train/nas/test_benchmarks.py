"""The NAS-Bench-201 reward reads analog-nasbench's table (the `nasbench` extra, in the
`test` extra), and refuses cleanly without it."""

import builtins

import numpy as np
import pytest

from keras_zoo.train.nas import benchmarks, search

pytestmark = pytest.mark.no_keras_state  # no Keras layers: see tests/conftest.py


def test_the_table_of_15625_cells():
    pytest.importorskip("analognasbench", reason="the 'nasbench' extra (analog-nasbench) is "
                        "not installed: pip install '.[nasbench]'")
    from analognasbench import AnalogNASBench

    bench = benchmarks.NASBench201()
    assert bench.space.counts == (5,) * 6 and bench.space.size == 15625
    assert bench.accuracies.shape == (5,) * 6 and np.isfinite(bench.accuracies).all()
    # The figure: the table's best is 94.07% (cell (2, 2, 0, 2, 3, 2)).
    assert round(bench.best_accuracy, 2) == 94.07
    assert bench.accuracy([2, 2, 0, 2, 3, 2]) == bench.best_accuracy
    # Operation 1 is the zero operation: every edge cut gives chance, 10%.
    assert bench.accuracy([1] * 6) == 10.0
    rng = np.random.default_rng(0)
    table = AnalogNASBench()
    for _ in range(20):  # the wheel's own query API agrees entry by entry
        cell = tuple(int(c) for c in rng.integers(0, 5, 6))
        assert bench.accuracy(list(cell)) == table.query_metric(cell, "baseline_accuracy")
        assert bench(list(cell)) == pytest.approx(bench.accuracy(list(cell)) / 100, rel=1e-12)
    with pytest.raises(ValueError, match="list of 6 choice indices"):
        bench([0, 1])
    records = search(bench.space, bench, trials=30, seed=0, algorithm="evolution",
                     population_size=10, sample_size=3, children_per_update=1)
    assert [r["reward"] for r in records] == [bench(r["arch"]) for r in records]


def test_without_the_extra_it_refuses_with_one_line(monkeypatch):
    real_import = builtins.__import__

    def no_analognasbench(name, *args, **kwargs):
        if name.startswith("analognasbench"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_analognasbench)
    benchmarks._table.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"'nasbench' extra .*keras_zoo\[nasbench\]"):
            benchmarks.NASBench201()
    finally:
        benchmarks._table.cache_clear()
