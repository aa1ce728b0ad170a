"""Fine-tuning an ImageNet ResNet on your own folder of photographs (transfer learning).

Commands (``keras-zoo train`` picks this recipe for ``--init`` on resnet50, resnet101 or
resnet152 when no ``--recipe`` is given):

    keras-zoo train resnet50 --data-dir my_photos \\
        --init resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5   # my_photos/<class>/*
    keras-zoo train resnet50 --data-dir my_photos --init WEIGHTS.h5 --validation-split 0.1
    keras-zoo evaluate runs/resnet50-20261128-101500 --crops 10

Expected: not measured here (no pretrained weights can be downloaded on this machine);
tests/train/test_resnet_finetune.py checks the two stages and a short run on a small
folder of real-format photographs.

Recipe, in two stages (Keras' transfer-learning guide, from the command line): the
classifier ("fc", new, for the folder's classes) trains alone for ``head_epochs`` epochs
at ``head_learning_rate``, the rest frozen (no gradient flows into it: a fast start that
does not disturb the pretrained features with the new layer's random errors); then every
layer trains at the ten times lower ``learning_rate`` until ``epochs``
(`callbacks.FineTuneStages`). Batch normalisation keeps the statistics of the weights
(``norm_layer="frozen"``, `layers.FrozenBatchNormalization`: a small folder's batch
statistics are noisy; ``--set norm_layer=batch`` trains them). SGD momentum 0.9, coupled
L2 1e-4, batch 32, random-resized 224 crops and flips, no colour noise; the evaluation
crop and the rest as `resnet_imagenet`. A folder of classes keeps ``test_split`` (10%)
of every class aside for the test accuracy printed at the end (its ``test/`` or ``val/``
folder when it has one); ``--validation-split`` holds out a validation part too (its
accuracy each epoch, ``best.keras`` by its loss).
"""

from keras_zoo.train.callbacks import FineTuneStages
from keras_zoo.train.schedules import StepSchedule

from .initial_weights import NEW_LAYERS
from .resnet_imagenet import ResNetImageNet


class ResNetFineTune(ResNetImageNet):
    """`resnet_imagenet` from pretrained weights, head first (see the module docstring)."""

    name = "resnet_finetune"
    defaults = {
        **ResNetImageNet.defaults,
        "batch_size": 32,
        "epochs": 10,
        "head_epochs": 3,  # the first stage: the new classifier alone
        "head_learning_rate": 0.01,
        "learning_rate": 0.001,  # the second stage, every layer
        "decay_epochs": [],  # lr / 10 after these epochs (of the whole run)
        "augmentation": "inception",
        "lighting": 0.0,
        "norm_layer": "frozen",
    }
    tiny = {**ResNetImageNet.tiny, "epochs": 2, "head_epochs": 1, "steps_per_epoch": 1}

    def build_model(self, builder, data, config):
        """The pretrained network with a new classifier (``--init`` is required)."""
        if config["init"] is None:
            raise ValueError(f"Expected --init WEIGHTS (a keras.applications ResNet .h5 file) "
                             f"for the resnet_finetune recipe. Received: no --init for "
                             f"{config['model']}")
        return super().build_model(builder, data, config)

    def learning_rate(self, config, steps_per_epoch):
        """``head_learning_rate`` for the first stage, then ``learning_rate`` divided by 10
        after each of ``decay_epochs``."""
        if config["schedule"] != "step":
            raise ValueError(f"Expected schedule 'step' for resnet_finetune (its two stages are "
                             f"steps). Received: schedule={config['schedule']!r}")
        epochs = [config["head_epochs"], *config["decay_epochs"]]
        values = [config["head_learning_rate"]] + [config["learning_rate"] * 0.1**i
                                                   for i in range(len(epochs))]
        return StepSchedule([e * steps_per_epoch for e in epochs], values)

    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        """As `resnet_imagenet`, with the optimizer built for every trainable variable
        before `FineTuneStages` freezes the body."""
        super().compile_model(model, config, steps_per_epoch=steps_per_epoch,
                              jit_compile=jit_compile)
        model.optimizer.build(model.trainable_variables)
        return model

    def callbacks(self, config, *, has_validation, data=None):
        """`FineTuneStages` and the skipped-images line."""
        return [FineTuneStages(config["head_epochs"], head=NEW_LAYERS),
                *super().callbacks(config, has_validation=has_validation, data=data)]
