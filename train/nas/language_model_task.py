"""``keras-zoo search --task language-model``: the recurrent-cell search of Sec. 3.4 on text."""

import os

import numpy as np

from keras_zoo.train.nas.retrain_directory import RetrainDirectory


class LanguageModelTask:
    """Base-``--base`` recurrent cells (`RecurrentCellSpace`), children trained by
    `LanguageModelTrainer` (reward c / validation perplexity^2) on Penn Treebank
    (``--data-dir`` with ptb.train.txt, ptb.valid.txt, ptb.test.txt) or, without
    ``--data-dir``, the Python Language Reference text shipped with CPython."""

    name = "language-model"

    def __init__(self, args, preset):
        from keras_zoo.models.nas import RecurrentCellSpace
        from keras_zoo.train.nas.language_model_trainer import LanguageModelTrainer
        from keras_zoo.train.nas.text_corpus import load_text

        self.corpus = load_text(args.data_dir)
        self.space = RecurrentCellSpace(args.base)
        self.trainer = LanguageModelTrainer(
            self.corpus, units=args.child_units, epochs=args.child_epochs or 1,
            batch_size=args.child_batch_size or 20,
            learning_rate=args.child_learning_rate or 0.003, seed=args.seed)
        self.metadata = {"text": self.corpus.name, "base": args.base,
                         "child_units": self.trainer.units, "child_epochs": self.trainer.epochs,
                         "child_batch_size": self.trainer.batch_size,
                         "child_learning_rate": self.trainer.learning_rate}
        self.label = self.corpus.name
        self.default_out = os.path.join("runs", f"nas-lm-{self.corpus.name}-seed{args.seed}")
        self.description = (f"{self.space.size:.2e} base-{args.base} cells on "
                            f"{self.corpus.name} ({len(self.corpus.train):,d} training words)")

    def retrain(self, arch, out, *, epochs, overwrite=False, log=print):
        """Trains the language model of cell `arch` for `epochs` epochs, evaluates its
        perplexity once on the test text, saves ``out/model.keras`` and
        ``out/result.json``; returns the result dict. A finished `out` is read; a killed one
        resumes in its phase (`RetrainDirectory`)."""
        directory = RetrainDirectory(out, arch.to_dict(), overwrite=overwrite)
        if directory.result is not None:
            return directory.result
        if directory.trained() is None:
            log(f"Retraining the best cell ({len(self.corpus.train):,d} words, {epochs} "
                f"epochs)")
            model, _ = self.trainer.train(arch, epochs=epochs, backup_dir=directory.backup_dir,
                                          callbacks=[directory.history_callback()])
            directory.save_trained(model)
        model, history = directory.trained()  # as a resumed retrain reads it back
        return directory.finish({
            "epochs": epochs, "val_perplexity": float(np.exp(history["val_loss"][-1])),
            "test_perplexity": self.trainer.perplexity(model, "test"),
            "params": int(model.count_params()), "text": self.corpus.name})

    def summary(self, ok, result):
        best = max(ok, key=lambda r: r["reward"])
        return {"best_val_perplexity": best.get("val_perplexity"),
                "test_perplexity": result["test_perplexity"]}

    def report(self, result):
        return (f"test perplexity of the retrained best cell: {result['test_perplexity']:.1f} "
                f"({result['params']:,d} parameters)")

    def saved(self, out):
        return f"{out}/model.keras"
