"""ops.averaging.mean_over_passes: the mean of N passes of a stochastic callable."""

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import averaging

pytestmark = pytest.mark.no_keras_state


def _counting_fn(calls):
    """One pass per call row block: returns, per row, the index of the copy it is
    (0, 1, ... over all calls), so the mean over N passes is (N - 1) / 2."""
    def fn(tiled):
        calls.append(int(tf.shape(tiled)[0]))
        start = sum(calls[:-1])
        rows = tf.range(start, start + tf.shape(tiled)[0], dtype=tf.float32)
        return tf.stack([rows, -rows], axis=1)
    return fn


@pytest.mark.parametrize("num_samples,max_batch_size,calls", [
    (5, 256, [10]),  # one call of 5 copies of the 2 rows
    (5, 4, [4, 4, 2]),  # 2 copies per call, the last call 1 copy
    (3, 1, [2, 2, 2]),  # at least one copy per call
])
def test_batches_copies_and_averages_every_pass_once(num_samples, max_batch_size, calls):
    seen = []
    x = tf.zeros((2, 3))
    out = averaging.mean_over_passes(_counting_fn(seen), x, num_samples, (2,),
                                     max_batch_size=max_batch_size).numpy()
    assert seen == calls
    # Row r of copy c has value c * 2 + r: the mean over c = 0 .. N-1 is (N - 1) + r.
    # Small integers in float32: exact.
    expected = np.array([[num_samples - 1.0], [num_samples + 0.0]])
    np.testing.assert_array_equal(out, np.concatenate([expected, -expected], 1))


def test_softmax_per_pass_and_tensor_num_samples_in_a_graph():
    logits = tf.constant([[0.0, np.log(3.0)]])
    fn = tf.function(lambda n: averaging.mean_over_passes(
        lambda t: tf.tile(logits, [tf.shape(t)[0], 1]), tf.zeros((1, 4)), n, (2,),
        from_logits=True))
    # softmax([0, log 3]) = [1/4, 3/4]: float32 softmax rounding, a few ulps.
    np.testing.assert_allclose(fn(tf.constant(7)).numpy(), [[0.25, 0.75]], rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        fn(tf.constant(0))
    with pytest.raises(ValueError, match="num_samples"):
        averaging.check_num_samples(0)
