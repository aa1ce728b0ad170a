"""The recurrent-cell search's data and reward: Penn Treebank files (tiny ones the test
writes) and the shipped text as TextCorpus; LanguageModelTrainer's reward c / ppl^2;
``keras-zoo search --task language-model`` end to end."""

import dataclasses
import json
import math

import numpy as np
import pytest

from keras_zoo.models.nas import CellArchitecture, RecurrentCellSpace
from keras_zoo.train import cli
from keras_zoo.train.nas.language_model_trainer import LanguageModelTrainer
from keras_zoo.train.nas.text_corpus import load_text


def write_tiny_ptb(folder, seed=0):
    """ptb.{train,valid,test}.txt of short sentences from a 4-pattern grammar."""
    rng = np.random.default_rng(seed)
    nouns, verbs = ["cat", "dog", "bird", "fish"], ["sees", "likes", "eats"]
    folder.mkdir(exist_ok=True)
    for split, lines in (("train", 120), ("valid", 20), ("test", 20)):
        with open(folder / f"ptb.{split}.txt", "w", encoding="utf-8") as f:
            for _ in range(lines):
                a, b = rng.choice(nouns, 2)
                f.write(f" the {a} {rng.choice(verbs)} the {b} \n")
            if split == "valid":
                f.write(" the zebra sees the cat \n")  # a word outside the vocabulary
    return folder


@pytest.mark.no_keras_state
def test_penn_treebank_files_and_the_shipped_text(tmp_path):
    corpus = load_text(write_tiny_ptb(tmp_path / "ptb"))
    assert corpus.name == "ptb" and corpus.vocabulary[:2] == ("<eos>", "<unk>")
    assert set(corpus.vocabulary) == {"<eos>", "<unk>", "the", "cat", "dog", "bird", "fish",
                                      "sees", "likes", "eats"}
    assert corpus.vocabulary[2] == "the"  # the most frequent word first
    assert len(corpus.train) == 120 * 6 and (corpus.train == 0).sum() == 120  # <eos> per line
    assert corpus.valid[-6:].tolist()[:2] == [2, 1]  # "the zebra": zebra is <unk>
    x, y = corpus.windows("train", 35)
    assert x.shape == y.shape == ((120 * 6 - 1) // 35, 35)
    np.testing.assert_array_equal(x[1, :5], corpus.train[35:40])
    np.testing.assert_array_equal(y[1, :5], corpus.train[36:41])
    with pytest.raises(FileNotFoundError, match="ptb.train.txt"):
        load_text(tmp_path)
    shipped = load_text()
    assert shipped.name == "python-reference"
    assert len(shipped.train) > 50_000 and len(shipped.valid) > 5_000 and len(shipped.test) > 5_000
    assert 1_500 < shipped.vocabulary_size < 3_000
    np.testing.assert_array_equal(load_text().train, shipped.train)  # deterministic


def test_reward_is_c_over_squared_validation_perplexity(tmp_path):
    corpus = load_text(write_tiny_ptb(tmp_path / "ptb"))
    trainer = LanguageModelTrainer(corpus, units=8, steps=12, epochs=2, batch_size=8)
    cell = RecurrentCellSpace(2).sample(0)
    result = trainer(cell)
    assert len(result["val_perplexities"]) == 2
    assert result["val_perplexity"] == result["val_perplexities"][-1]
    assert result["reward"] == pytest.approx(80 / result["val_perplexity"] ** 2, rel=1e-12)
    # A model guessing uniformly scores the vocabulary size (10); this one learned.
    assert result["val_perplexity"] < 10
    blank = dataclasses.replace(corpus, test=np.zeros_like(corpus.test))
    again = LanguageModelTrainer(blank, units=8, steps=12, epochs=2, batch_size=8)(cell)
    # The test text is never read and the child's seeds follow from the cell: the same
    # training (TF may reorder float sums: a relative 1e-4 allows that).
    np.testing.assert_allclose(again["val_perplexities"], result["val_perplexities"], rtol=1e-4)
    assert trainer.child_seed(cell) != trainer.child_seed(RecurrentCellSpace(2).sample(1))
    assert trainer.child_seed("lstm") == trainer.child_seed("lstm")


@pytest.mark.large
def test_search_language_model_end_to_end(tmp_path, capsys):
    data, out = write_tiny_ptb(tmp_path / "ptb"), tmp_path / "search"
    argv = ["search", "--task", "language-model", "--data-dir", str(data), "--base", "2",
            "--child-units", "8", "--trials", "2", "--children-per-update", "2",
            "--child-epochs", "1", "--retrain-epochs", "1", "--executor", "in-process",
            "--algorithm", "evolution", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "test perplexity of the retrained best cell" in printed
    records = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert len(records) == 2
    best = max(records, key=lambda r: r["reward"])
    arch = CellArchitecture.from_dict(json.loads((out / "best_arch.json").read_text()))
    assert arch.to_dict() == best["arch"] and arch.base == 2
    summary = json.loads((out / "summary.json").read_text())
    result = json.loads((out / "best" / "result.json").read_text())
    assert summary["task"] == "language-model"
    assert summary["test_perplexity"] == result["test_perplexity"]
    assert math.isfinite(result["test_perplexity"]) and (out / "best" / "model.keras").exists()
    retrained = tmp_path / "retrained"
    assert cli.main(["search", "--task", "language-model", "--data-dir", str(data),
                     "--base", "2", "--child-units", "8", "--retrain",
                     str(out / "best_arch.json"), "--retrain-epochs", "1",
                     "--out", str(retrained)]) == 0
    assert json.loads((retrained / "result.json").read_text())["arch"] == arch.to_dict()
    assert cli.main(argv[:-2] + ["--dataset", "digits", "--out", str(tmp_path / "x")]) == 2
    assert "Expected no --dataset with --task language-model" in capsys.readouterr().err
