"""`TextCorpus`: word-level text for language-model children (Penn Treebank or a shipped text)."""

import collections
import dataclasses
import os
import re

import numpy as np

from keras_zoo.checks import positive_int

PTB_FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}
EOS, UNK = "<eos>", "<unk>"
SHIPPED = "python-reference"
SHARES = {"train": 0.8, "valid": 0.1, "test": 0.1}  # of the shipped text's words


@dataclasses.dataclass(frozen=True)
class TextCorpus:
    """Token ids of a training, a validation and a test text, and their vocabulary.

    Attributes:
        train, valid, test: int32 ``[N]`` token ids, sentences joined, each
            ending with the id of ``"<eos>"``.
        vocabulary: the word of each id (``"<unk>"`` stands for words left
            out of the vocabulary).
        name: ``"ptb"`` or ``"python-reference"``.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    vocabulary: tuple
    name: str

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def windows(self, split, steps):
        """``(x, y)`` int32 ``[W, steps]``: the split cut into consecutive
        windows of `steps` tokens (the tail that fills no window dropped) and
        the same windows shifted by one token, the targets."""
        tokens = getattr(self, split)
        count = (len(tokens) - 1) // steps
        if count < 1:
            raise ValueError(f"Expected the {split} text to hold more than {steps} tokens. "
                             f"Received: {len(tokens)} tokens")
        x = tokens[:count * steps].reshape(count, steps)
        y = tokens[1:count * steps + 1].reshape(count, steps)
        return x, y


def _ids(sentences, vocabulary):
    index = {word: i for i, word in enumerate(vocabulary)}
    unk = index.get(UNK)
    return np.array([index.get(word, unk) for sentence in sentences for word in sentence + [EOS]],
                    np.int32)


def _corpus(splits, name, max_vocabulary, min_count=1):
    counts = collections.Counter(word for sentence in splits["train"] for word in sentence)
    words = sorted((w for w, c in counts.items() if c >= min_count and w not in (EOS, UNK)),
                   key=lambda w: (-counts[w], w))[:max_vocabulary - 2]
    vocabulary = (EOS, UNK, *words)
    return TextCorpus(*(_ids(splits[s], vocabulary) for s in ("train", "valid", "test")),
                      vocabulary=vocabulary, name=name)


def _shipped_sentences():
    """Paragraphs of the Python Language Reference's help topics (`pydoc_data.topics`, in
    every CPython), lower-cased words and numbers (as "N", Penn Treebank's convention)."""
    from pydoc_data.topics import topics

    splits = {"train": [], "valid": [], "test": []}
    sizes = dict.fromkeys(splits, 0)
    for key in sorted(topics):
        paragraphs = []
        for paragraph in re.split(r"\n\s*\n", topics[key]):
            words = ["N" if w.isdigit() else w for w in re.findall(r"[a-z]+|\d+",
                                                                   paragraph.lower())]
            if words:
                paragraphs.append(words)
        size = sum(len(p) for p in paragraphs)
        total = sum(sizes.values()) + size
        split = max(SHARES, key=lambda s: SHARES[s] * total - sizes[s])  # furthest below
        splits[split] += paragraphs
        sizes[split] += size
    return splits


def load_text(data_dir=None, *, max_vocabulary=10000):
    """A word-level `TextCorpus`.

    With `data_dir`: Penn Treebank as Mikolov et al. prepared it (the files
    ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt``; 10,000 words,
    ``<unk>`` included), one sentence a line. Without: the quick start's
    text, the help topics of the Python Language Reference that ship with
    every CPython (``pydoc_data.topics``; about 74,000 words in 79 topics,
    dealt in name order each to the split furthest below its share of 80 /
    10 / 10 % of the words; each paragraph a sentence; words seen once in
    training become ``<unk>``).
    The vocabulary is the training text's words, most frequent first, at most
    `max_vocabulary` ids with ``<eos>`` and ``<unk>``.

    Raises:
        FileNotFoundError: a Penn Treebank file is missing from `data_dir`.
    """
    positive_int("max_vocabulary", max_vocabulary)
    if data_dir is None:
        return _corpus(_shipped_sentences(), SHIPPED, max_vocabulary, min_count=2)
    splits = {}
    for split, filename in PTB_FILES.items():
        path = os.path.join(data_dir, filename)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected Penn Treebank's {', '.join(PTB_FILES.values())} "
                                    f"in --data-dir. Received: {path} does not exist")
        with open(path, encoding="utf-8") as f:
            splits[split] = [line.split() for line in f if line.strip()]
    return _corpus(splits, "ptb", max_vocabulary)
