"""Small models the export tests share (fast to build and convert on CPU)."""

import keras


def tiny_classifier(size=8, classes=5, seed=0, classifier_activation=None):
    """Raw pixels [B, size, size, 3] -> logits [B, classes] (or their
    `classifier_activation`), normalising inside. Export tests compare logits: the
    softmax of an untrained model is near uniform and hides errors."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inp = keras.Input((size, size, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inp)
    x = keras.layers.Conv2D(8, 3, padding="same", kernel_initializer=init)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(classes, activation=classifier_activation,
                             kernel_initializer=init)(x)
    return keras.Model(inp, out)


def tiny_dict_model(size=8, seed=0):
    """Raw pixels -> {"logits": [B, 3], "features": [B, 4]}."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inp = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inp)
    x = keras.layers.Conv2D(4, 3, kernel_initializer=init)(x)
    features = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(3, kernel_initializer=init)(features)
    return keras.Model(inp, {"logits": logits, "features": features})


def digits_classifier(seed=0, classifier_activation="softmax"):
    """Raw 32x32 grey digits -> softmax over 10 classes (or logits with
    `classifier_activation=None`): two conv + max-pool stages, dense."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inp = keras.Input((32, 32, 1), name="images")
    x = keras.layers.Rescaling(1 / 255.0)(inp)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer=init)(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init)(x)
    x = keras.layers.MaxPooling2D(4)(x)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(10, activation=classifier_activation, kernel_initializer=init)(x)
    return keras.Model(inp, out)


def trained_digits_classifier(data, epochs=8):
    """`digits_classifier` with logits output, trained briefly on `data.x_train` (a few
    seconds on CPU)."""
    model = digits_classifier(classifier_activation=None)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=epochs, verbose=0)
    return model
