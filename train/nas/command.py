"""``keras-zoo search``: architecture search (Zoph & Le 2016), then the best child retrained.

    keras-zoo search --dataset digits --trials 30 --child-epochs 2 --out runs/nas
    keras-zoo search --retrain runs/nas/best_arch.json --retrain-epochs 20
    keras-zoo search --task language-model --trials 10 --out runs/nas-lm      # shipped text
    keras-zoo search --task language-model --data-dir PTB_DIR --child-units 200 ...

``--task image-classification`` (the default) searches the CNN space (Sec.
3.1-3.3) on an image dataset, rewards are validation accuracies
(`ChildTrainer`); ``--task language-model`` searches recurrent cells (Sec.
3.4) on Penn Treebank (``--data-dir`` holding ptb.train.txt, ptb.valid.txt,
ptb.test.txt) or, without ``--data-dir``, on the Python Language Reference
text shipped with CPython; rewards are 80 / validation perplexity^2
(`LanguageModelTrainer`). ``--algorithm`` is reinforce, ppo, evolution or
random. Children train in a worker process by default (``--executor pool``):
a child that crashes its process scores the failure reward after one retry,
and the search goes on; ``--executor in-process`` is for debugging.

The search directory (`SearchDirectory`) gets ``search.json``,
``trials.jsonl``, ``checkpoint.npz`` and ``best_arch.json`` as it runs; the
same command on it resumes a killed search. At the end come
``reward_curve.png``, ``summary.json`` and ``best/``: the best architecture
retrained (images: on train + validation), evaluated once on the test split
(``best/result.json``), saved as ``best/model.keras`` (images: and a
SavedModel in ``best/saved_model/1``). The test split is read only by that
one evaluation.
"""

import os

import numpy as np

from keras_zoo.train.atomic_files import write_json_atomic
from keras_zoo.train.nas.retrain_directory import read_arch_file


def add_parser(sub):
    """Adds the ``search`` subcommand to an argparse subparsers object."""
    from keras_zoo.train import datasets
    from keras_zoo.train.nas import executors, presets

    p = sub.add_parser("search", help="neural architecture search (Zoph & Le 2016)",
                       description=__doc__.split("\n")[0])
    p.add_argument("--task", default="image-classification",
                   choices=("image-classification", "language-model"),
                   help="CNN search on images (Sec. 3.1-3.3) or recurrent cells on text (3.4)")
    p.add_argument("--dataset", choices=datasets.NAMES, help="images (default digits)")
    p.add_argument("--data-dir", help="where the dataset's files are (not for digits); "
                   "language-model: Penn Treebank's ptb.{train,valid,test}.txt (default: the "
                   "shipped Python Language Reference text)")
    p.add_argument("--validation-split", type=float, default=360,
                   help="training images held out for the rewards: a count or a fraction")
    p.add_argument("--trials", type=int, default=30, help="children to train")
    p.add_argument("--out", help="search directory (default runs/nas-<dataset>-seed<seed>, "
                   "runs/nas-lm-<text>-seed<seed>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a keras-zoo search of other settings in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", default="default", choices=sorted(presets.PRESETS))
    p.add_argument("--algorithm", choices=("reinforce", "ppo", "evolution", "random"),
                   help="controller update, regularized evolution or random search (default: "
                   "the preset's)")
    p.add_argument("--layers", type=int, default=4, help="child layers (images)")
    p.add_argument("--base", type=int, default=8, help="leaves of the cell tree, 2-8 (text; "
                   "Sec. 4.2: 8)")
    p.add_argument("--child-units", type=int, default=32,
                   help="embedding and cell width of the language-model children (text)")
    p.add_argument("--strides", default="1,2,3",
                   help="stride choices, comma-separated, or 'none' for stride 1")
    p.add_argument("--no-skips", dest="skips", action="store_false",
                   help="chain the layers (no skip-connection decisions)")
    p.add_argument("--children-per-update", type=int, help="m (default: the preset's)")
    p.add_argument("--learning-rate", type=float, help="controller Adam (default: the preset's)")
    p.add_argument("--entropy-weight", type=float, help="entropy bonus (default: the preset's)")
    p.add_argument("--child-epochs", type=int,
                   help="epochs per child (default: the preset's for images, 1 for text)")
    p.add_argument("--child-batch-size", type=int, help="default: 32 images, 20 windows")
    p.add_argument("--child-learning-rate", type=float,
                   help="default: SGD 0.1 (images), Adam 0.003 (text)")
    p.add_argument("--reward-power", type=int, help="3: the paper's cubed accuracy "
                   "(default: the preset's)")
    p.add_argument("--executor", default="pool", choices=executors.NAMES,
                   help="pool: children in worker processes (one by default; a crashing child "
                   "is retried once, then scored with the failure reward); in-process: for "
                   "debugging; ray")
    p.add_argument("--workers", type=int, help="parallel children (pool: processes, default 1; "
                   "ray: CPUs of a local runtime)")
    p.add_argument("--address", help="with --executor ray: 'auto' joins this machine's cluster")
    p.add_argument("--retrain", metavar="ARCH_JSON", help="only retrain this architecture "
                   "(e.g. DIR/best_arch.json; images: on train + validation) and test it")
    p.add_argument("--retrain-epochs", type=int, default=10)
    return p


def _progress(trials, done):
    import keras

    bar = keras.utils.Progbar(trials, stateful_metrics=["reward", "best"], unit_name="trial")
    state = {"done": done, "best": None}

    def on_trial(record):
        state["done"] += 1
        if not record["failed"] and (state["best"] is None or record["reward"] > state["best"]):
            state["best"] = record["reward"]
        bar.update(state["done"], values=[("reward", record["reward"]),
                                          ("best", state["best"] or 0.0)])
    return on_trial


def _task(args, preset):
    from keras_zoo.train.nas.image_task import ImageTask
    from keras_zoo.train.nas.language_model_task import LanguageModelTask

    if args.task == "language-model":
        if args.dataset is not None:
            raise ValueError(f"Expected no --dataset with --task language-model (the text is "
                             f"--data-dir's Penn Treebank, or the shipped text). Received: "
                             f"--dataset {args.dataset}")
        return LanguageModelTask(args, preset)
    args.dataset = args.dataset or "digits"
    return ImageTask(args, preset)


def _run_retrain(args, task):
    arch = task.space.from_record(read_arch_file(args.retrain))
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.retrain)), "retrained")
    result = task.retrain(arch, out, epochs=args.retrain_epochs, overwrite=args.overwrite)
    print(task.report(result))
    print(f"Saved: {task.saved(out)}, {out}/result.json")
    return 0


def command(args):
    """The ``keras-zoo search`` handler; returns the exit status."""
    from keras_zoo.train import cli_errors
    from keras_zoo.train.nas import SearchDirectory, executors, presets, search
    from keras_zoo.train.nas.reward_curve import plot_reward_curve

    preset = presets.get(args.preset)
    for name in ("trials", "layers", "child_epochs", "child_batch_size", "retrain_epochs",
                 "workers", "children_per_update", "child_units"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"Expected --{name.replace('_', '-')} >= 1. Received: {value}")
    executor = executors.get(args.executor, workers=args.workers, address=args.address)
    task = _task(args, preset)
    if args.retrain:
        return _run_retrain(args, task)
    out = args.out or task.default_out
    ours = SearchDirectory(out).stored_header() is not None
    checkpoint = SearchDirectory(out).load_checkpoint() if ours else None
    done = 0 if checkpoint is None else checkpoint[2]  # trials before the resumed update
    print(f"Searching {task.description} ({args.trials} trials, {task.trainer.epochs} epochs "
          f"each) into {out}", flush=True)
    try:
        records = search(task.space, task.trainer, trials=args.trials, seed=args.seed,
                         out_dir=out, preset=args.preset, algorithm=args.algorithm,
                         children_per_update=args.children_per_update,
                         learning_rate=args.learning_rate, entropy_weight=args.entropy_weight,
                         executor=executor, metadata=task.metadata, overwrite=args.overwrite,
                         on_trial=_progress(args.trials, min(done, args.trials)))
    except KeyboardInterrupt:
        raise cli_errors.Interrupted(f"run the same command to resume the search in {out} "
                                     f"(trials done: see {out}/trials.jsonl)") from None
    finally:
        executor.close()
    directory = SearchDirectory(out)
    plot_reward_curve(records, directory.file("reward_curve.png"),
                      title=f"{task.label}: reward per trial ({args.algorithm or 'controller'})")
    ok = [r for r in records if not r["failed"]]
    if not ok:
        raise ValueError(f"Expected at least one child to train. Received: all {len(records)} "
                         f"failed, e.g. {records[0].get('error')}")
    best = max(ok, key=lambda r: r["reward"])
    result = task.retrain(task.space.from_record(best["arch"]), directory.file("best"),
                          epochs=args.retrain_epochs)
    summary = {"task": task.name, "trials": len(records), "failed": len(records) - len(ok),
               "best_trial": best["trial"], "best_reward": best["reward"],
               "seconds_per_trial": float(np.mean([r["seconds"] for r in records])),
               "retrain_epochs": result["epochs"], **task.summary(ok, result)}
    write_json_atomic(summary, directory.file("summary.json"))
    print(f"Best architecture: trial {best['trial'] + 1}, reward {best['reward']:.4g} -> "
          f"{directory.file('best_arch.json')}")
    print(task.report(result))
    print(f"Saved: {task.saved(out + '/best')}, {out}/reward_curve.png")
    return 0
