"""REINFORCE, PPO, regularized evolution and random search on NAS-Bench-201 (tabular).

    python bench/nas_benchmark.py --runs 100 --queries 1000 --out runs/nas-benchmark

Every algorithm searches the 15,625 cells of NAS-Bench-201 (`benchmarks.NASBench201`:
the trained CIFAR-10 accuracy of a cell is its reward, as a fraction) in `--runs`
independent runs (seeds 0 .. runs-1; `--first-seed` moves them) of `--queries`
queries each, with `keras_zoo.train.nas.search` and its default preset unless the
flags below change it. A query is one trial: a cell proposed twice counts twice.
The best accuracy found within 100, 300 and 1,000 queries is read off each run's
trajectory (no algorithm knows the budget, so a prefix of a 1,000-query run is a
100-query run). Prints per algorithm and budget the mean and standard error (over
the runs) of the best-found accuracy and of its regret to the table's best, as JSON
lines (`_report.emit`) and a Markdown table beside the published NAS-Bench-201
figures, and draws ``<out>/nas_benchmark.png``: mean best-found accuracy against
queries (shaded: +-1 standard error). ``<out>/<algorithm>.npz`` holds each run's
accuracy per query and its seconds; a rerun computes only the missing algorithms.

Needs the ``nasbench`` extra (analog-nasbench).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_zoo.train import plots  # noqa: E402
from keras_zoo.train.nas import search  # noqa: E402
from keras_zoo.train.nas.benchmarks import NASBench201  # noqa: E402

from _report import emit  # noqa: E402

ALGORITHMS = ("reinforce", "ppo", "evolution", "random")
BUDGETS = (100, 300, 1000)
COLORS = {"reinforce": "tab:blue", "ppo": "tab:orange", "evolution": "tab:green",
          "random": "tab:gray"}
# Dong & Yang 2020 (arXiv:2001.00326), Table 5, CIFAR-10 test accuracy, mean +- std over
# 500 runs of a 12,000-second search budget (REA 93.92 +- 0.30, REINFORCE 93.85 +- 0.37,
# random 93.70 +- 0.36); the table's best cell there: 94.37.
PUBLISHED = {"evolution": (93.92, 0.30), "reinforce": (93.85, 0.37), "random": (93.70, 0.36)}


def run_algorithm(bench, algorithm, args):
    """Accuracy per query ``[runs, queries]`` and seconds per run ``[runs]``."""
    accuracies, seconds = [], []
    settings = {k: v for k, v in (("learning_rate", args.learning_rate),
                                  ("children_per_update", args.children_per_update),
                                  ("entropy_weight", args.entropy_weight),
                                  ("baseline_decay", args.baseline_decay)) if v is not None}
    if algorithm == "evolution":
        settings = {"children_per_update": 1, "population_size": args.population_size,
                    "sample_size": args.sample_size}
    elif algorithm == "random":
        settings = {}
    for run in range(args.runs):
        seed = args.first_seed + run
        start = time.process_time()
        records = search(bench.space, bench, trials=args.queries, seed=seed,
                         algorithm=algorithm, **settings)
        seconds.append(time.process_time() - start)
        accuracies.append([100.0 * r["reward"] for r in records])
    return np.array(accuracies), np.array(seconds)


def summarise(best, table_best):
    """Rows per budget: mean and standard error of best-found accuracy and regret."""
    rows = []
    for budget in BUDGETS:
        values = best[:, min(budget, best.shape[1]) - 1]
        se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
        rows.append({"budget": budget, "mean": float(values.mean()), "se": float(se),
                     "regret": float(table_best - values.mean()), "std": float(values.std())})
    return rows


def plot(curves, table_best, path):
    figure, (axis,) = plots.figure(1, panel_size=(7, 4.5))
    for algorithm, best in curves.items():
        queries = np.arange(1, best.shape[1] + 1)
        mean = best.mean(axis=0)
        se = best.std(axis=0, ddof=1) / np.sqrt(len(best))
        axis.plot(queries, mean, color=COLORS[algorithm], label=f"{algorithm} (ours)")
        axis.fill_between(queries, mean - se, mean + se, color=COLORS[algorithm], alpha=0.25)
    for algorithm, (mean, _) in PUBLISHED.items():
        axis.axhline(mean, color=COLORS[algorithm], linestyle=":", linewidth=1)
    axis.axhline(table_best, color="black", linewidth=0.8, label=f"table's best {table_best:.2f}")
    axis.set_xscale("log")
    axis.set_ylim(92.5, table_best + 0.2)
    axis.set_xlabel("queries (cells evaluated)")
    axis.set_ylabel("best-found CIFAR-10 accuracy (%)")
    axis.set_title("NAS-Bench-201: mean of {} runs, +-1 s.e.; dotted: published (Dong & Yang "
                   "2020)".format(len(next(iter(curves.values())))), fontsize=9)
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(alpha=0.3)
    plots.save(figure, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS),
                        choices=ALGORITHMS)
    parser.add_argument("--learning-rate", type=float, help="controller Adam (reinforce, ppo)")
    parser.add_argument("--children-per-update", type=int, help="m (reinforce, ppo)")
    parser.add_argument("--entropy-weight", type=float)
    parser.add_argument("--baseline-decay", type=float)
    parser.add_argument("--population-size", type=int, default=100)
    parser.add_argument("--sample-size", type=int, default=25)
    parser.add_argument("--out", default="runs/nas-benchmark")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    bench = NASBench201()
    curves = {}
    for algorithm in args.algorithms:
        path = os.path.join(args.out, f"{algorithm}.npz")
        if os.path.exists(path):
            with np.load(path) as data:
                accuracies, seconds = data["accuracies"], data["seconds"]
        else:
            accuracies, seconds = run_algorithm(bench, algorithm, args)
            np.savez(path, accuracies=accuracies, seconds=seconds)
        best = np.maximum.accumulate(accuracies, axis=1)
        curves[algorithm] = best
        for row in summarise(best, bench.best_accuracy):
            emit({"algorithm": algorithm, "runs": len(best), **row,
                  "cpu_seconds_per_run": float(seconds.mean())})
    print(f"\n| algorithm | {' | '.join(f'{b} queries' for b in BUDGETS)} | regret at "
          f"{' / '.join(map(str, BUDGETS))} | CPU s per run | published (mean +- std) |")
    print("|---|" + "---|" * (len(BUDGETS) + 3))
    for algorithm, best in curves.items():
        rows = summarise(best, bench.best_accuracy)
        cells = " | ".join(f"{r['mean']:.2f} +- {r['se']:.2f}" for r in rows)
        regret = " / ".join(f"{r['regret']:.2f}" for r in rows)
        with np.load(os.path.join(args.out, f"{algorithm}.npz")) as data:
            cpu = float(data["seconds"].mean())
        published = "{:.2f} +- {:.2f}".format(*PUBLISHED[algorithm]) \
            if algorithm in PUBLISHED else "-"
        print(f"| {algorithm} | {cells} | {regret} | {cpu:.2f} | {published} |")
    if "reinforce" in curves and "random" in curves:
        a, b = curves["reinforce"][:, 299], curves["random"][:, 299]
        gap = a.mean() - b.mean()
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        print(f"\nREINFORCE - random at 300 queries: {gap:+.3f} points, {gap / se:+.2f} standard "
              f"errors of the difference (target: > 2)")
    plot(curves, bench.best_accuracy, os.path.join(args.out, "nas_benchmark.png"))
    print(f"Saved: {args.out}/nas_benchmark.png")


if __name__ == "__main__":
    main()
