"""``keras-zoo search --task image-classification``: the CNN search of Sec. 3.1-3.3 on images."""

import os

import numpy as np

from keras_zoo.train.nas.retrain_directory import RetrainDirectory


def _split(value):
    return int(value) if value >= 1 and float(value).is_integer() else value


class ImageTask:
    """The CNN space of ``--layers`` / ``--strides`` / ``--no-skips`` on ``--dataset``,
    children trained by `ChildTrainer` (reward: validation accuracy)."""

    name = "image-classification"

    def __init__(self, args, preset):
        from keras_zoo.models.nas import SearchSpace
        from keras_zoo.train import datasets
        from keras_zoo.train.nas.child_trainer import ChildTrainer

        self.data = datasets.load(args.dataset, args.data_dir, validation_split=_split(
            args.validation_split), seed=args.seed)
        strides = None
        if args.strides.lower() != "none":
            try:
                strides = tuple(int(s) for s in args.strides.split(","))
            except ValueError:
                raise ValueError(f"Expected --strides like 1,2,3 or 'none'. "
                                 f"Received: --strides {args.strides}") from None
        self.space = SearchSpace(args.layers, strides=strides, skip_connections=args.skips)
        self.trainer = ChildTrainer(
            self.data, epochs=args.child_epochs or preset["child_epochs"],
            batch_size=args.child_batch_size or 32,
            learning_rate=args.child_learning_rate or 0.1,
            reward_power=args.reward_power or preset["reward_power"], seed=args.seed)
        self.metadata = {"dataset": args.dataset, "validation_split": args.validation_split,
                         "child_epochs": self.trainer.epochs,
                         "child_batch_size": self.trainer.batch_size,
                         "child_learning_rate": self.trainer.learning_rate,
                         "reward_power": self.trainer.reward_power}
        self.label = args.dataset
        self.default_out = os.path.join("runs", f"nas-{args.dataset}-seed{args.seed}")
        self.description = (f"{self.space.size:,d} architectures of {args.layers} layers on "
                            f"{args.dataset}")

    def retrain(self, arch, out, *, epochs, overwrite=False, log=print):
        """Trains `arch` on train + validation, evaluates it once on the test split and
        saves ``out/model.keras``, ``out/saved_model/1`` and ``out/result.json``; returns
        the result dict. A finished `out` is read, not redone; a killed one resumes in its
        phase (`RetrainDirectory`)."""
        from keras_zoo.export import to_saved_model

        directory = RetrainDirectory(out, arch.to_dict(), overwrite=overwrite)
        if directory.result is not None:
            return directory.result
        trained = directory.trained()
        if trained is None:
            data = self.data
            log(f"Retraining on train + validation ({len(data.x_train) + len(data.x_val)} "
                f"images, {epochs} epochs)")
            model, _ = self.trainer.train(
                arch, np.concatenate([data.x_train, data.x_val]),
                np.concatenate([data.y_train, data.y_val]), epochs=epochs,
                backup_dir=directory.backup_dir, callbacks=[directory.history_callback()])
            directory.save_trained(model)
        model, history = directory.trained()  # as a resumed retrain reads it back
        test = model.evaluate(self.data.x_test, self.data.y_test, verbose=0, return_dict=True)
        to_saved_model(model, directory.file("saved_model"), version=1, overwrite=True)
        return directory.finish({
            "epochs": epochs, "test_accuracy": float(test["accuracy"]),
            "test_loss": float(test["loss"]), "train_accuracy": history["accuracy"][-1],
            "params": int(model.count_params()), "dataset": self.data.name})

    def summary(self, ok, result):
        """The task's lines of ``summary.json`` from the successful records and the retrain."""
        best = max(ok, key=lambda r: r["reward"])
        return {"best_val_accuracy": best.get("val_accuracy"),
                "mean_val_accuracy": float(np.mean([r.get("val_accuracy", r["reward"])
                                                    for r in ok])),
                "test_accuracy": result["test_accuracy"]}

    def report(self, result):
        return (f"test accuracy of the retrained best child: {result['test_accuracy']:.4f} "
                f"({result['params']:,d} parameters)")

    def saved(self, out):
        return f"{out}/model.keras, {out}/saved_model/1"
