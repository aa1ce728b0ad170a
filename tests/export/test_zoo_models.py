"""Models of the zoo export to SavedModel and TFLite (builtin ops only) within the
stated tolerances (verification inside the exporters does the comparison)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import models
from keras_zoo.export import to_saved_model, to_tflite
from keras_zoo.export.tflite import flex_ops, run_tflite

TOL = 1e-4  # of the output scale

# Logits (classifier_activation=None): the softmax of an untrained net is near uniform
# and would hide errors.
BUILDERS = {
    "resnet20": lambda: models.ResNet20(classifier_activation=None),
    "wide_resnet_10_1": lambda: models.WideResNet(10, 1, classifier_activation=None),
    # deterministic inference
    "swapout_resnet_8_1": lambda: models.SwapoutResNet(8, 1, seed=0, classifier_activation=None),
}


@pytest.mark.large
@pytest.mark.parametrize("name", list(BUILDERS))
def test_zoo_classifiers_export(tmp_path, name):
    model = BUILDERS[name]()
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    expected = model(x.astype("float32"), training=False).numpy()
    scale = max(1.0, np.abs(expected).max())
    path = to_saved_model(model, tmp_path / "serving", sample_inputs=x, output_names="logits",
                          from_logits=True)
    got = tf.saved_model.load(path).signatures["serving_default"](images=x)["logits"]
    assert np.max(np.abs(got.numpy() - expected)) <= TOL * scale
    path = to_tflite(model, tmp_path / "r20.tflite", sample_inputs=x, output_names="logits")
    assert flex_ops(path) == []
    got = run_tflite(path, {"images": x})["logits"]
    assert np.max(np.abs(got - expected)) <= TOL * scale


def test_concrete_vae_encoder_and_decoder_export(tmp_path):
    """The VAE ships as its two sub-models: `encoder` (binary float images, not raw
    pixels: `raw_pixels=False` keeps float32) and `decoder` (codes [B, N, K])."""
    vae = models.ConcreteVAE(4, 3, image_shape=(8, 8, 1), hidden_units=(16,), seed=0)
    with pytest.raises(ValueError, match="export its functional sub-models"):
        to_saved_model(vae, tmp_path / "vae")  # subclassed: no inputs to serve
    rng = np.random.default_rng(0)
    x = (rng.random((3, 8, 8, 1)) < 0.5).astype("float32")
    codes = np.eye(3, dtype="float32")[rng.integers(0, 3, (3, 4))]
    enc = to_saved_model(vae.encoder, tmp_path / "encoder", raw_pixels=False,
                         output_names="logits", sample_inputs=x)
    dec = to_saved_model(vae.decoder, tmp_path / "decoder", output_names="logits",
                         sample_inputs={"codes": codes})
    encode = tf.saved_model.load(enc).signatures["serving_default"]
    decode = tf.saved_model.load(dec).signatures["serving_default"]
    assert encode.structured_input_signature[1]["images"].dtype == tf.float32
    assert decode.structured_input_signature[1]["codes"].shape.as_list() == [None, 4, 3]
    logits = encode(images=x)["logits"].numpy()
    assert np.max(np.abs(logits - vae.encoder(x).numpy())) <= TOL * max(1, np.abs(logits).max())
    # Served pipeline = the VAE's inference pass: argmax code, decode, sigmoid.
    z = np.eye(3, dtype="float32")[logits.argmax(-1)]
    means = tf.sigmoid(decode(codes=z)["logits"]).numpy()
    assert np.max(np.abs(means - vae(x, training=False).numpy())) <= TOL

    for name, sub, feed in (("encoder", vae.encoder, {"images": x}),
                            ("decoder", vae.decoder, {"codes": codes})):
        path = to_tflite(sub, tmp_path / f"{name}.tflite", sample_inputs=feed,
                         output_names="logits")
        assert flex_ops(path) == []
        expected = sub(next(iter(feed.values()))).numpy()
        got = run_tflite(path, feed)["logits"]
        assert np.max(np.abs(got - expected)) <= TOL * max(1.0, np.abs(expected).max())
