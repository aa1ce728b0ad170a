"""train.datasets.image_pipeline and image_augment: every image format decoded to RGB uint8
(checked against Pillow's reading of the same file), the crop windows, ten crops and colour
noise against their definitions, bad images skipped and counted without stopping a pass,
seeded and sharded pipelines."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_zoo.train.datasets import ImageFiles, SkippedImages, image_augment, image_pipeline
from tests.train import image_folder_files as files

pytestmark = pytest.mark.no_keras_state  # tf.data and TF ops only

# Largest difference to Pillow's decoding of the same file: 0 for lossless formats; JPEG
# decoders differ in their IDCT and chroma upsampling (measured: at most 5 levels here).
JPEG_TOLERANCE = 6
LOSSY = ("jpeg", "grey_jpeg", "cmyk_jpeg")


@pytest.mark.parametrize("kind", files.KINDS)
def test_every_format_decodes_to_rgb_uint8(tmp_path, kind):
    image = files.pixels(np.random.default_rng(0), 1, 40, 56)
    path = files.write_image(str(tmp_path / f"x{files.EXTENSION.get(kind, '.png')}"), image,
                             kind)
    decoded = image_pipeline.decode_window(tf.io.read_file(path), image_pipeline.whole_window)
    assert decoded.dtype == tf.uint8 and decoded.shape == (40, 56, 3)
    decoded = decoded.numpy().astype(int)
    if kind == "png16":  # Pillow cannot convert 16-bit grey to RGB: scale the stored values
        stored = np.asarray(Image.open(path)).astype(float)
        expected = np.repeat(np.round(stored / 257)[..., None], 3, axis=2)
        assert np.abs(decoded - expected).max() <= 1
        return
    expected = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert np.abs(decoded - expected).max() <= (JPEG_TOLERANCE if kind in LOSSY else 0)


def test_a_jpeg_is_decoded_inside_its_window_only(tmp_path):
    image = files.pixels(np.random.default_rng(1), 2, 64, 80)
    path = files.write_image(str(tmp_path / "x.jpg"), image, "jpeg")
    encoded = tf.io.read_file(path)
    whole = image_pipeline.decode_window(encoded, image_pipeline.whole_window).numpy()
    window = image_pipeline.decode_window(encoded, lambda shape: tf.constant([8, 16, 24, 40]))
    expected = whole[8:32, 16:56].astype(int)
    # The same pixels but at the window's edge, where the chroma upsampling has no neighbour.
    np.testing.assert_array_equal(window.numpy()[1:-1, 1:-1], expected[1:-1, 1:-1])
    assert np.abs(window.numpy().astype(int) - expected).max() <= JPEG_TOLERANCE


def test_scale_window_samples_the_papers_shorter_sides():
    sides = []
    for i in range(200):
        y, x, h, w = image_augment.scale_window([300, 500], tf.constant([i, 7]),
                                                scale_range=(256, 480), crop_size=224).numpy()
        assert h == w and 0 <= y <= 300 - h and 0 <= x <= 500 - w
        sides.append(h)
    # side = 224 * 300 / S for S in [256, 480]: between 140 and 262.5
    assert 140 <= min(sides) < 150 and 250 < max(sides) <= 263


def test_center_and_inception_windows():
    np.testing.assert_array_equal(
        image_augment.center_window([300, 400], crop_size=224, resize_size=256),
        [19, 69, 262, 262])  # round(300 * 224 / 256) = 262 (half to even)
    for i in range(50):
        y, x, h, w = image_augment.inception_window([300, 400], tf.constant([i, 0])).numpy()
        assert 0 <= y <= 300 - h and 0 <= x <= 400 - w
        whole = (h, w) == (300, 400)  # the fallback when ten tries fail
        assert whole or (0.08 * 0.99 <= h * w / 120000 <= 1 and 3 / 4 * 0.95 <= w / h
                         <= 4 / 3 * 1.05)


def test_ten_crops_are_the_corners_center_and_mirrors():
    image = tf.constant(np.random.default_rng(2).integers(0, 256, (30, 40, 3)), tf.uint8)
    crops = image_augment.ten_crops(image, crop_size=16, resize_size=20).numpy()
    resized = image_augment.shorter_side(image, 20).numpy()
    assert resized.shape == (20, 27, 3) and crops.shape == (10, 16, 16, 3)
    corners = [(0, 0), (0, 11), (4, 0), (4, 11), (2, 5)]
    expected = np.stack([resized[y:y + 16, x:x + 16] for y, x in corners])
    np.testing.assert_array_equal(crops[:5], expected)
    np.testing.assert_array_equal(crops[5:], expected[:, :, ::-1])


def test_lighting_is_alexnets_pca_noise():
    image = tf.constant(np.full((4, 5, 3), 100, np.uint8))
    seed = tf.constant([3, 4])
    alpha = tf.random.stateless_normal([3], seed, stddev=0.1).numpy()
    offset = np.array(image_augment.PCA_EIGENVECTORS) @ (
        alpha * np.array(image_augment.PCA_EIGENVALUES)) * 255
    noisy = image_augment.lighting(image, seed, 0.1).numpy()
    np.testing.assert_array_equal(noisy, np.broadcast_to(np.round(100 + offset), (4, 5, 3)))


def _bad_folder(root):
    """Class folders with 6 good images and 4 bad ones; returns the bad paths."""
    written = files.write_class_tree(root, {"a": 5, "b": 5}, kinds=("jpeg", "png"))
    bad = [files.corrupt(written["a"][0], "truncated"), files.corrupt(written["a"][1], "garbage"),
           files.corrupt(written["b"][0], "empty")]
    os.remove(written["b"][1])
    os.symlink(os.path.join(root, "gone.png"), written["b"][1])  # a file that cannot be read
    return bad + [written["b"][1]]


def test_bad_images_are_skipped_and_counted(tmp_path):
    bad = _bad_folder(str(tmp_path))
    split = ImageFiles.from_class_folders(tmp_path, name="train")
    skipped = SkippedImages()
    batches = image_pipeline.evaluation_pipeline(split, batch_size=4, num_classes=2,
                                                 skipped=skipped, crop_size=16, resize_size=18)
    assert batches.cardinality() == 3  # known: a skipped image stays, with weight 0
    labels, weights = (np.concatenate(part) for part in list(zip(*batches))[1:])
    assert list(weights) == [0, 0, 1, 1, 1, 0, 0, 1, 1, 1]
    assert list(labels[weights == 1]) == [0, 0, 0, 1, 1, 1]
    counts, examples = skipped.take()
    assert counts == {"train": 4} and examples["train"].startswith(bad[0])
    assert "truncated" in examples["train"]
    assert skipped.summary(counts, examples).startswith(
        f"skipped 4 images that could not be decoded: train 4 (e.g. {bad[0]}")
    # Training passes run through them too: three passes of 6 good images, in 4 batches of 4.
    train = image_pipeline.training_pipeline(split, batch_size=4, num_classes=2,
                                             skipped=skipped, crop_size=16,
                                             scale_range=(18, 24), lighting=0.1, seed=1)
    seen = np.concatenate([y for _, y in train.take(4)])
    assert len(seen) == 16 and sorted(set(seen)) == [0, 1]
    assert skipped.take()[0]["train"] >= 8  # two passes at least, and prefetched elements


def test_labels_outside_the_classes_are_skipped(tmp_path):
    files.write_class_tree(tmp_path, {"a": 2, "b": 2, "c": 2})
    split = ImageFiles.from_class_folders(tmp_path, name="train")
    skipped = SkippedImages()
    batches = image_pipeline.evaluation_pipeline(split, batch_size=8, num_classes=2,
                                                 skipped=skipped, crop_size=16, resize_size=16)
    weights = np.concatenate([w for _, _, w in batches])
    assert list(weights) == [1, 1, 1, 1, 0, 0]
    assert skipped.take()[0] == {"train": 2}


def test_training_batches_follow_the_seed(tmp_path):
    files.write_class_tree(tmp_path, {"a": 6, "b": 6})
    split = ImageFiles.from_class_folders(tmp_path, name="train")

    def batches(seed):
        pipeline = image_pipeline.training_pipeline(
            split, batch_size=5, num_classes=2, skipped=SkippedImages(), crop_size=16,
            scale_range=(16, 30), lighting=0.1, seed=seed)
        return [x.numpy() for x, _ in pipeline.take(4)]

    first, again, other = batches(0), batches(0), batches(1)
    assert first[0].shape == (5, 16, 16, 3) and first[0].dtype == np.uint8
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))


def test_ten_crop_evaluation_batches(tmp_path):
    files.write_class_tree(tmp_path, {"a": 2, "b": 1}, kinds=("jpeg", "png16"))
    split = ImageFiles.from_class_folders(tmp_path, name="test")
    batches = list(image_pipeline.evaluation_pipeline(
        split, batch_size=2, num_classes=2, skipped=SkippedImages(), crop_size=16,
        resize_size=20, crops=10))
    assert [tuple(x.shape) for x, _, _ in batches] == [(2, 10, 16, 16, 3),
                                                       (1, 10, 16, 16, 3)]
    with pytest.raises(ValueError, match=r"Expected `crops` to be one of \(1, 10\)"):
        image_pipeline.evaluation_pipeline(split, batch_size=2, num_classes=2,
                                           skipped=SkippedImages(), crops=5)


def test_shards_give_each_pipeline_its_files_and_resume_where_it_was(tmp_path):
    files.write_class_tree(tmp_path, {"a": 4, "b": 4})
    split = ImageFiles.from_class_folders(tmp_path, name="train")
    shards = image_pipeline.Shards(split, global_batch_size=4, num_classes=2,
                                   skipped=SkippedImages(), crop_size=16, scale_range=(16, 20))
    seen = []
    for index in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=index,
                                             num_replicas_in_sync=2)
        pipeline = shards.dataset(context)
        assert pipeline.element_spec[0].shape.as_list() == [2, 16, 16, 3]  # per replica
        batches = list(pipeline.take(5))
        seen.append(np.concatenate([y for _, y in batches[:2]]))
        # Restarted at global step 3, the pipeline continues with the 4th batch (decoded
        # and augmented alike: integer pixels moved by the same seeded ops).
        resumed = next(iter(shards.dataset(context, start_step=3)))
        np.testing.assert_array_equal(resumed[0], batches[3][0])
        np.testing.assert_array_equal(resumed[1], batches[3][1])
    # pipeline 0 reads files 0, 2, 4, 6 (labels 0, 0, 1, 1), pipeline 1 files 1, 3, 5, 7
    assert sorted(seen[0]) == sorted(seen[1]) == [0, 0, 1, 1]


def test_a_folder_where_nothing_decodes(tmp_path, monkeypatch):
    written = files.write_class_tree(tmp_path, {"a": 2, "b": 2})
    for paths in written.values():
        for path in paths:
            files.corrupt(path, "garbage")
    split = ImageFiles.from_class_folders(tmp_path, name="train")
    with pytest.raises(ValueError, match=rf"Expected readable images in {tmp_path}. Received: "
                                         rf"none of the first 4 could be decoded, e.g. "
                                         rf"{tmp_path}/a/a_0.JPEG \(UnidentifiedImageError"):
        image_pipeline.check_decodable(split, num_classes=2)
    # Should the files go away during training, the endless pipeline stops with an error.
    monkeypatch.setattr(image_pipeline, "MAX_FAILURES_IN_A_ROW", 6)
    train = image_pipeline.training_pipeline(split, batch_size=2, num_classes=2,
                                             skipped=SkippedImages(), crop_size=16,
                                             scale_range=(16, 20))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Expected readable images in .* Received: 6 in a row"):
        next(iter(train))
