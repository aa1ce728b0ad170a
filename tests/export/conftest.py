"""A trained tiny Mask R-CNN shared by the detector export tests (SavedModel, TFLite)."""

import keras
import numpy as np
import pytest

from tests.models.mask_rcnn_tiny import synthetic_batch, tiny_mask_rcnn

# 50 Adam steps on 4 synthetic images: the scores separate (random heads give ties
# near 1 / num_classes, whose order float rounding decides) and every test image has
# detections to compare.
TRAINING_EPOCHS = 25


@pytest.fixture(scope="session")
def trained_mask_rcnn():
    """`(model, images)`: the tiny MaskRCNN fitted on 4 images, and uint8 test images
    [4, 64, 64, 3] (2 of its training images, 2 it has not seen)."""
    keras.utils.set_random_seed(0)
    model = tiny_mask_rcnn()
    x, y = synthetic_batch(num_images=4)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(x, y, epochs=TRAINING_EPOCHS, batch_size=2, verbose=0)
    images = np.concatenate([x[:2], synthetic_batch(seed=7, num_images=2)[0]])
    assert np.all(np.asarray(model(images)["num_detections"]) > 0)
    return model, images
