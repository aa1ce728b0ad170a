"""ChildTrainer: the standard reward (validation accuracy, max of the last epochs, optionally
cubed) from seed-only randomness; epoch_batches; the reward curve picture."""

import dataclasses

import numpy as np
import pytest

from keras_zoo.models.nas import SearchSpace
from keras_zoo.train.datasets import ImageDataset
from keras_zoo.train.nas.child_trainer import ChildTrainer
from keras_zoo.train.nas.epoch_batches import epoch_batches


def _data(with_validation=True):
    """Two classes of 8x8 images: a bright left half or a bright right half, with noise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80).astype(np.int32)
    x = rng.integers(0, 60, (80, 8, 8, 1))
    for i, label in enumerate(y):
        x[i, :, label * 4:(label + 1) * 4] += 180
    x = x.astype(np.uint8)
    val = (x[48:64], y[48:64]) if with_validation else (None, None)
    return ImageDataset(x_train=x[:48], y_train=y[:48], x_val=val[0], y_val=val[1],
                        x_test=x[64:], y_test=y[64:], num_classes=2, class_names=("l", "r"),
                        name="digits")


def test_reward_is_the_best_recent_validation_accuracy():
    data = _data()
    arch = SearchSpace(2).sample(0)
    result = ChildTrainer(data, epochs=3, batch_size=16, last_epochs=2)(arch)
    accuracies = result["val_accuracies"]
    assert len(accuracies) == 3
    assert result["reward"] == result["val_accuracy"] == max(accuracies[-2:])
    assert all(a * 16 == round(a * 16) for a in accuracies)  # fractions of 16 images
    assert result["params"] > 0
    cubed = ChildTrainer(data, epochs=3, batch_size=16, last_epochs=2, reward_power=3)(arch)
    # The same seed trains the same child: the accuracies agree (to rounding; TF may
    # reorder float sums, which could flip one of 16 images at most rarely).
    np.testing.assert_allclose(cubed["val_accuracies"], accuracies, atol=1 / 16 + 1e-6)
    assert cubed["reward"] == pytest.approx(cubed["val_accuracy"] ** 3)


def test_rewards_never_read_the_test_split():
    data = _data()
    arch = SearchSpace(2).sample(1)
    blank = dataclasses.replace(data, x_test=np.zeros_like(data.x_test),
                                y_test=np.zeros_like(data.y_test))
    a = ChildTrainer(data, epochs=1, batch_size=16)(arch)
    b = ChildTrainer(blank, epochs=1, batch_size=16)(arch)
    np.testing.assert_allclose(a["val_accuracies"], b["val_accuracies"], atol=1 / 16 + 1e-6)
    with pytest.raises(ValueError, match="validation split"):
        ChildTrainer(_data(with_validation=False))


@pytest.mark.no_keras_state
def test_child_seed_depends_on_the_architecture_and_seed():
    space = SearchSpace(3)
    a, b = space.sample(0), space.sample(1)
    trainer = ChildTrainer(_data(), seed=0)
    assert trainer.child_seed(a) == trainer.child_seed(space.decode(space.encode(a)))
    assert trainer.child_seed(a) != trainer.child_seed(b)
    assert trainer.child_seed(a) != ChildTrainer(_data(), seed=1).child_seed(a)


@pytest.mark.no_keras_state
def test_epoch_batches_cover_every_example_each_epoch_in_a_seeded_order():
    x = np.arange(10)[:, None]
    y = np.arange(10)
    dataset, steps = epoch_batches(x, y, batch_size=4, epochs=3, seed=5)
    assert steps == 3
    batches = [b[1].numpy() for b in dataset]
    assert [len(b) for b in batches] == [4, 4, 2] * 3
    epochs = [np.concatenate(batches[3 * e:3 * e + 3]) for e in range(3)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    again = [b[1].numpy() for b in epoch_batches(x, y, batch_size=4, epochs=3, seed=5)[0]]
    assert all(np.array_equal(p, q) for p, q in zip(batches, again))  # integers: exact
