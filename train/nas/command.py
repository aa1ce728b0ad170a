"""``keras-zoo search``: architecture search on an image dataset, then the best child retrained.

    keras-zoo search --dataset digits --trials 30 --child-epochs 2 --out runs/nas
    keras-zoo search --retrain runs/nas/best_arch.json --retrain-epochs 20

The search directory (`SearchDirectory`) gets ``search.json``,
``trials.jsonl``, ``checkpoint.npz`` and ``best_arch.json`` as it runs; the
same command on it resumes a killed search. At the end come
``reward_curve.png``, ``summary.json`` and ``best/``: the best architecture
retrained on train + validation, evaluated once on the test split
(``best/result.json``), saved as ``best/model.keras`` and a SavedModel in
``best/saved_model/1``. Rewards are validation accuracies (`ChildTrainer`):
the test split is read only by that one evaluation.
"""

import json
import os

import numpy as np

from keras_zoo.train.atomic_files import atomic_path, write_json_atomic

RETRAIN_FORMAT = "keras_zoo.nas.retrain"


def add_parser(sub):
    """Adds the ``search`` subcommand to an argparse subparsers object."""
    from keras_zoo.train import datasets
    from keras_zoo.train.nas import executors, presets

    p = sub.add_parser("search", help="neural architecture search (Zoph & Le 2016)",
                       description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="digits", choices=datasets.NAMES)
    p.add_argument("--data-dir", help="where the dataset's files are (not for digits)")
    p.add_argument("--validation-split", type=float, default=360,
                   help="training images held out for the rewards: a count or a fraction")
    p.add_argument("--trials", type=int, default=30, help="children to train")
    p.add_argument("--out", help="search directory (default runs/nas-<dataset>-seed<seed>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a keras-zoo search of other settings in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", default="default", choices=sorted(presets.PRESETS))
    p.add_argument("--algorithm", choices=("reinforce", "ppo", "random"),
                   help="controller update, or random search (default: the preset's)")
    p.add_argument("--layers", type=int, default=4, help="child layers")
    p.add_argument("--strides", default="1,2,3",
                   help="stride choices, comma-separated, or 'none' for stride 1")
    p.add_argument("--no-skips", dest="skips", action="store_false",
                   help="chain the layers (no skip-connection decisions)")
    p.add_argument("--children-per-update", type=int, help="m (default: the preset's)")
    p.add_argument("--learning-rate", type=float, help="controller Adam (default: the preset's)")
    p.add_argument("--entropy-weight", type=float, help="entropy bonus (default: the preset's)")
    p.add_argument("--child-epochs", type=int, help="epochs per child (default: the preset's)")
    p.add_argument("--child-batch-size", type=int, default=32)
    p.add_argument("--child-learning-rate", type=float, default=0.1)
    p.add_argument("--reward-power", type=int, help="3: the paper's cubed accuracy "
                   "(default: the preset's)")
    p.add_argument("--executor", default="inprocess", choices=executors.NAMES)
    p.add_argument("--workers", type=int, help="parallel children (pool: processes; ray: CPUs "
                   "of a local runtime)")
    p.add_argument("--address", help="with --executor ray: 'auto' joins this machine's cluster")
    p.add_argument("--retrain", metavar="ARCH_JSON", help="only retrain this architecture "
                   "(e.g. DIR/best_arch.json) on train + validation and test it")
    p.add_argument("--retrain-epochs", type=int, default=10)
    return p


def _space(args):
    from keras_zoo.models.nas import SearchSpace

    strides = None
    if args.strides.lower() != "none":
        try:
            strides = tuple(int(s) for s in args.strides.split(","))
        except ValueError:
            raise ValueError(f"Expected --strides like 1,2,3 or 'none'. "
                             f"Received: --strides {args.strides}") from None
    return SearchSpace(args.layers, strides=strides, skip_connections=args.skips)


def _split(value):
    return int(value) if value >= 1 and float(value).is_integer() else value


def _trainer(args, data, preset):
    from keras_zoo.train.nas.child_trainer import ChildTrainer

    return ChildTrainer(data, epochs=args.child_epochs or preset["child_epochs"],
                        batch_size=args.child_batch_size, learning_rate=args.child_learning_rate,
                        reward_power=args.reward_power or preset["reward_power"], seed=args.seed)


def retrain(arch, trainer, out, *, epochs, overwrite=False, log=print):
    """Trains `arch` on train + validation of ``trainer.data``, evaluates it once on
    the test split and saves ``out/model.keras``, ``out/saved_model/1`` and
    ``out/result.json``; returns the result dict. A finished `out` is read, not
    redone; a folder of other files is refused."""
    from keras_zoo.export import to_saved_model

    result_path = os.path.join(out, "result.json")
    if os.path.exists(result_path) and not overwrite:
        with open(result_path, encoding="utf-8") as f:
            result = json.load(f)
        if result.get("format") == RETRAIN_FORMAT and result["arch"] == arch.to_dict():
            return result
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(result_path):
        raise ValueError(f"Expected the retrain directory to be new or one keras-zoo wrote. "
                         f"Received: {out!r} holds other files")
    os.makedirs(out, exist_ok=True)
    data = trainer.data
    log(f"Retraining on train + validation ({len(data.x_train) + len(data.x_val)} images, "
        f"{epochs} epochs)")
    model, history = trainer.train(arch, np.concatenate([data.x_train, data.x_val]),
                                   np.concatenate([data.y_train, data.y_val]), epochs=epochs)
    test = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    with atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    to_saved_model(model, os.path.join(out, "saved_model"), version=1, overwrite=True)
    result = {"format": RETRAIN_FORMAT, "arch": arch.to_dict(), "epochs": epochs,
              "test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
              "train_accuracy": float(history["accuracy"][-1]),
              "params": int(model.count_params()), "dataset": data.name}
    write_json_atomic(result, result_path)
    return result


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


def _run_retrain(args, preset, data):
    from keras_zoo.models.nas import Architecture

    if not os.path.exists(args.retrain):
        raise FileNotFoundError(f"Expected an architecture JSON file. Received: "
                                f"--retrain {args.retrain!r} does not exist")
    with open(args.retrain, encoding="utf-8") as f:
        arch = Architecture.from_json(f.read())
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.retrain)), "retrained")
    result = retrain(arch, _trainer(args, data, preset), out, epochs=args.retrain_epochs,
                     overwrite=args.overwrite)
    print(f"test accuracy: {result['test_accuracy']:.4f} ({result['params']:,d} parameters)")
    print(f"Saved: {out}/model.keras, {out}/saved_model/1, {out}/result.json")
    return 0


def command(args):
    """The ``keras-zoo search`` handler; returns the exit status."""
    from keras_zoo.models.nas import Architecture
    from keras_zoo.train import cli_errors, datasets
    from keras_zoo.train.nas import SearchDirectory, executors, presets, search
    from keras_zoo.train.nas.reward_curve import plot_reward_curve

    preset = presets.get(args.preset)
    for name in ("trials", "layers", "child_epochs", "child_batch_size", "retrain_epochs",
                 "workers", "children_per_update"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"Expected --{name.replace('_', '-')} >= 1. Received: {value}")
    data = datasets.load(args.dataset, args.data_dir, validation_split=_split(
        args.validation_split), seed=args.seed)
    if args.retrain:
        return _run_retrain(args, preset, data)
    space = _space(args)
    trainer = _trainer(args, data, preset)
    out = args.out or os.path.join("runs", f"nas-{args.dataset}-seed{args.seed}")
    metadata = {"dataset": args.dataset, "validation_split": args.validation_split,
                "child_epochs": trainer.epochs, "child_batch_size": trainer.batch_size,
                "child_learning_rate": trainer.learning_rate,
                "reward_power": trainer.reward_power}
    executor = executors.get(args.executor, workers=args.workers, address=args.address)
    ours = SearchDirectory(out).stored_header() is not None
    checkpoint = SearchDirectory(out).load_checkpoint() if ours else None
    done = 0 if checkpoint is None else checkpoint[2]  # trials before the resumed update
    print(f"Searching {space.size:,d} architectures of {args.layers} layers on {args.dataset} "
          f"({args.trials} trials, {trainer.epochs} epochs each) into {out}", flush=True)
    try:
        records = search(space, trainer, trials=args.trials, seed=args.seed, out_dir=out,
                         preset=args.preset, algorithm=args.algorithm,
                         children_per_update=args.children_per_update,
                         learning_rate=args.learning_rate, entropy_weight=args.entropy_weight,
                         executor=executor, metadata=metadata, overwrite=args.overwrite,
                         on_trial=_progress(args.trials, min(done, args.trials)))
    except KeyboardInterrupt:
        raise cli_errors.Interrupted(f"run the same command to resume the search in {out} "
                                     f"(trials done: see {out}/trials.jsonl)") from None
    finally:
        executor.close()
    directory = SearchDirectory(out)
    plot_reward_curve(records, directory.file("reward_curve.png"),
                      title=f"{args.dataset}: reward per trial ({args.algorithm or 'controller'})")
    ok = [r for r in records if not r["failed"]]
    if not ok:
        raise ValueError(f"Expected at least one child to train. Received: all {len(records)} "
                         f"failed, e.g. {records[0].get('error')}")
    best = max(ok, key=lambda r: r["reward"])
    arch = Architecture.from_dict(best["arch"])
    result = retrain(arch, trainer, directory.file("best"), epochs=args.retrain_epochs)
    summary = {"trials": len(records), "failed": len(records) - len(ok),
               "best_trial": best["trial"], "best_reward": best["reward"],
               "best_val_accuracy": best.get("val_accuracy"),
               "mean_val_accuracy": float(np.mean([r.get("val_accuracy", r["reward"])
                                                   for r in ok])),
               "seconds_per_trial": float(np.mean([r["seconds"] for r in records])),
               "test_accuracy": result["test_accuracy"], "retrain_epochs": result["epochs"]}
    write_json_atomic(summary, directory.file("summary.json"))
    print(f"Best architecture: trial {best['trial'] + 1}, reward {best['reward']:.4f} -> "
          f"{directory.file('best_arch.json')}")
    print(f"test accuracy of the retrained best child: {result['test_accuracy']:.4f}")
    print(f"Saved: {out}/best/model.keras, {out}/best/saved_model/1, {out}/reward_curve.png")
    return 0
