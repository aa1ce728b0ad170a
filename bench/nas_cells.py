"""The paper's recurrent cell (NASCell, Zoph & Le 2016 Fig. 8) against an LSTMCell as wide.

    python bench/nas_cells.py --units 128 --epochs 15 --seeds 0 1 --out runs/nas-cells
    python bench/nas_cells.py --cells nascell lstm runs/nas-lm/best_arch.json --units 32 \
        --epochs 10 --dropout 0 --out runs/nas-cells-32     # a searched cell beside them

Both cells train the same `LanguageModel` (embedding, 2 RNN layers of the cell, tied
softmax) with `LanguageModelTrainer` on the same text, windows, batches, optimiser,
dropout and epochs: by default the CPU quick start's text (the Python Language
Reference's help topics, `pydoc_data.topics`, shipped with CPython); ``--data-dir``
reads Penn Treebank's ptb.{train,valid,test}.txt instead. A cell is a name
(``nascell``, ``lstm``) or a ``best_arch.json`` of a ``--task language-model``
search. Prints one JSON line per
cell and seed (`_report.emit`: validation perplexity per epoch, test perplexity after
the last epoch, parameters, CPU seconds) and a Markdown table of mean +- standard
deviation over the seeds. Nothing is written but ``<out>/results.jsonl``; a rerun
reuses the lines of finished (cell, seed) pairs.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_zoo.train.nas.language_model_trainer import LanguageModelTrainer  # noqa: E402
from keras_zoo.train.nas.text_corpus import load_text  # noqa: E402

from _report import emit  # noqa: E402


def _architecture(cell):
    """A cell name as is; a best_arch.json file as the dict it holds."""
    if not cell.endswith(".json"):
        return cell
    with open(cell, encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="Penn Treebank's files (default: the shipped text)")
    parser.add_argument("--cells", nargs="+", default=["nascell", "lstm"],
                        help="cell names or best_arch.json files")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--steps", type=int, default=35)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="runs/nas-cells")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.jsonl")
    done = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            done = [json.loads(line) for line in f]
    corpus = load_text(args.data_dir)
    settings = {k: getattr(args, k) for k in ("units", "epochs", "batch_size", "steps",
                                              "learning_rate", "dropout")}
    results = []
    for cell in args.cells:
        for seed in args.seeds:
            key = {"cell": cell, "seed": seed, "text": corpus.name, **settings}
            found = [r for r in done if {k: r.get(k) for k in key} == key]
            if found:
                results.append(found[0])
                continue
            trainer = LanguageModelTrainer(corpus, seed=seed, **settings)
            start = time.process_time()
            model, history = trainer.train(_architecture(cell))
            record = {**key, "val_perplexities": [float(np.exp(v)) for v in history["val_loss"]],
                      "test_perplexity": trainer.perplexity(model, "test"),
                      "params": int(model.count_params()),
                      "cpu_seconds": time.process_time() - start,
                      "train_tokens": len(corpus.train), "vocabulary": corpus.vocabulary_size}
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            emit(record)
            results.append(record)
    print("\n| cell | parameters | val. perplexity (last epoch) | test perplexity | CPU s |")
    print("|---|---|---|---|---|")
    for cell in args.cells:
        rows = [r for r in results if r["cell"] == cell]

        def stat(values):
            values = np.array(values)
            return f"{values.mean():.1f} +- {values.std():.1f}"
        last = [r["val_perplexities"][-1] for r in rows]
        print(f"| {cell} | {rows[0]['params']:,d} | {stat(last)}"
              f" | {stat([r['test_perplexity'] for r in rows])} | "
              f"{stat([r['cpu_seconds'] for r in rows])} |")


if __name__ == "__main__":
    main()
