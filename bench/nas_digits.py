"""Controller against random search on the digits, the NAS report of docs/results.md.

    python bench/nas_digits.py --trials 40 --child-epochs 2 --seeds 0 1 2 --out runs/nas-bench

Runs ``keras-zoo search`` once per algorithm and seed with the same trials,
child epochs and space (4 layers, strides 1/2/3, skip connections), each
search retraining its best child on train + validation (10 epochs) and
testing it once; then prints a Markdown table of mean and best validation
accuracy, test accuracy of the retrained best child, and seconds per trial.
A finished search directory is read back, not run again; a search process
killed by a signal is resumed (up to --resumes times).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--child-epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--algorithms", nargs="+", default=["reinforce", "random"])
    parser.add_argument("--out", default="runs/nas-bench")
    parser.add_argument("--resumes", type=int, default=3,
                        help="times a search killed by a signal is resumed")
    args = parser.parse_args()
    keras_zoo = os.path.join(os.path.dirname(sys.executable), "keras-zoo")
    rows = {}
    for algorithm in args.algorithms:
        for seed in args.seeds:
            out = os.path.join(args.out, f"{algorithm}-seed{seed}")
            start = time.time()
            command = [keras_zoo, "search", "--dataset", "digits", "--trials", str(args.trials),
                       "--child-epochs", str(args.child_epochs), "--algorithm", algorithm,
                       "--seed", str(seed), "--out", out]
            for _ in range(args.resumes + 1):
                done = subprocess.run(command, stdout=subprocess.DEVNULL)
                if done.returncode >= 0:  # finished, or failed without being killed
                    break
                print(f"{algorithm} seed {seed}: the search process died by signal "
                      f"{-done.returncode}; resuming it", flush=True)
            done.check_returncode()
            with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
                summary = json.load(f)
            print(f"{algorithm} seed {seed}: {summary} ({time.time() - start:.0f} s)", flush=True)
            rows.setdefault(algorithm, []).append(summary)
    print("\n| search | mean val. acc. | best val. acc. | test acc. of best, retrained | s/trial |")
    print("|---|---|---|---|---|")
    for algorithm, summaries in rows.items():
        def stat(key):
            values = np.array([s[key] for s in summaries])
            return f"{values.mean():.3f} ± {values.std():.3f}"
        print(f"| {algorithm} | {stat('mean_val_accuracy')} | {stat('best_val_accuracy')} | "
              f"{stat('test_accuracy')} | {stat('seconds_per_trial')} |")


if __name__ == "__main__":
    main()
