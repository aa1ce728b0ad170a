"""Presets, keras-hub's layout: a directory a model is saved to and loaded from.

    <preset>/config.json        the model's serialised form (`keras.saving.serialize_keras_object`)
    <preset>/model.weights.h5   its weights (`model.save_weights`)
    <preset>/metadata.json      {"keras_zoo_preset": 1, "keras_zoo_version", "keras_version",
                                 "class_name", "parameter_count", "date_saved", and what the
                                 writer adds: "categories" or "class_names", "weights" (where
                                 they came from, their published accuracy)}

`PresetMixin` gives a backbone or task class ``save_to_preset`` and ``from_preset``
(`ResNetBackbone`, `ImageClassifier`, `FasterRCNN`, `MaskRCNN`). Loading never downloads:
``from_preset`` takes a directory, or a name of `known_presets.KNOWN_PRESETS` whose
directory exists (the name as written by ``keras-zoo convert``'s default); any other
known name is answered with the file to download and the command that converts it.
"""

import datetime
import json
import os
import re
import shutil
import tempfile
import uuid

import keras

import keras_zoo
from keras_zoo.models.known_presets import known_preset_help

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
MARKER = "keras_zoo_preset"
FORMAT = 1  # the layout's version, stored under MARKER


def _version(text):
    """``"0.1.0"`` -> ``(0, 1, 0)`` (leading integers of each dot-separated part)."""
    return tuple(int(m.group()) if (m := re.match(r"\d+", part)) else 0
                 for part in str(text).split("."))


def _read_json(path, what):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected {path} ({what}). Received: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Expected {path} to be {what} (JSON). Received: a file that does not "
                         f"parse ({type(error).__name__}: {str(error)[:120]})") from None


def is_preset(path):
    """True when `path` is a directory holding a keras_zoo preset's ``metadata.json``."""
    return os.path.isfile(os.path.join(os.fspath(path), METADATA_FILE))


def preset_directory(preset):
    """The directory of `preset` (a path, or a known preset's name whose directory exists).

    Raises:
        FileNotFoundError: no such directory; for a known name, saying which file to
            download and the command that converts it.
    """
    path = os.fspath(preset)
    if os.path.isdir(path):
        return path
    help_line = known_preset_help(path)
    if help_line:
        raise FileNotFoundError(f"Expected a converted preset directory. Received: {path!r}, "
                                f"which keras_zoo never downloads: {help_line}")
    raise FileNotFoundError(f"Expected a preset directory ({CONFIG_FILE}, {WEIGHTS_FILE}, "
                            f"{METADATA_FILE}) or a known preset name. Received: {path!r} "
                            "does not exist")


def load_metadata(preset):
    """The ``metadata.json`` of `preset`, checked: a keras_zoo preset of a format and
    keras_zoo version this installation reads."""
    directory = preset_directory(preset)
    path = os.path.join(directory, METADATA_FILE)
    metadata = _read_json(path, "a keras_zoo preset's metadata")
    if not isinstance(metadata, dict) or metadata.get(MARKER) is None:
        raise ValueError(f"Expected {path} to carry {MARKER!r} (a keras_zoo preset). Received: "
                         f"{str(metadata)[:80]}")
    made_by = metadata.get("keras_zoo_version", "0")
    if metadata[MARKER] > FORMAT or _version(made_by) > _version(keras_zoo.__version__):
        raise ValueError(f"Expected a preset of keras_zoo {keras_zoo.__version__} or older. "
                         f"Received: {directory} was written by keras_zoo {made_by} (format "
                         f"{metadata[MARKER]}); upgrade keras_zoo to load it")
    return metadata


def _stored_config(directory):
    path = os.path.join(directory, CONFIG_FILE)
    stored = _read_json(path, "a keras_zoo preset's model config")
    name = stored.get("registered_name") if isinstance(stored, dict) else None
    preset_cls = keras.saving.get_registered_object(name) if name else None
    if preset_cls is None or not isinstance(stored.get("config"), dict):
        raise ValueError(f"Expected {path} to hold a serialised keras_zoo model. Received: "
                         f"registered_name={name!r}")
    return stored, preset_cls


def _serialized_policy(policy):
    return keras.dtype_policies.serialize(keras.dtype_policies.get(policy))


def with_dtype_policy(config, policy):
    """`config` (a serialised model) with every float32 dtype policy in it replaced by
    `policy`: the model as built under that global policy (parts that pin float32 in
    their constructors, e.g. the detectors' pixel normalisation, keep it)."""
    float32 = _serialized_policy("float32")
    new = _serialized_policy(policy)

    def walk(value, key=None):
        if key == "dtype" and value in ("float32", float32):
            return new
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(config)


def rebuild_with_policy(model, policy):
    """`model` built again under the dtype `policy` (`with_dtype_policy` of its serialised
    form), with its weights (variables stay float32 under mixed policies); `model` itself
    when it already has that policy."""
    if keras.dtype_policies.get(policy).name == model.dtype_policy.name:
        return model
    rebuilt = keras.saving.deserialize_keras_object(
        with_dtype_policy(keras.saving.serialize_keras_object(model), policy))
    # By the weights file's structure (the order of `weights` follows the order the parts
    # were built in, which a deserialised model need not share).
    with tempfile.TemporaryDirectory(prefix="keras-zoo-policy-") as scratch:
        path = os.path.join(scratch, WEIGHTS_FILE)
        model.save_weights(path)
        rebuilt.load_weights(path)
    return rebuilt


def _build(directory, stored, dtype_policy, overrides):
    config = dict(stored["config"])
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"Expected keyword arguments among the settings of the preset's "
                         f"{stored['class_name']} ({', '.join(sorted(config))}). Received: "
                         f"{', '.join(unknown)}")
    stored = {**stored, "config": {**config, **overrides}}
    if dtype_policy is not None:
        stored = with_dtype_policy(stored, dtype_policy)
    model = keras.saving.deserialize_keras_object(stored)
    path = os.path.join(directory, WEIGHTS_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected {path} (the preset's weights). Received: no such file")
    try:
        model.load_weights(path)
    except Exception as error:  # truncated or foreign HDF5, other shapes, missing variables
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise ValueError(f"Expected {path} to hold the weights of the preset's "
                         f"{stored['class_name']}. Received: a file that does not load into it "
                         f"({type(error).__name__}: {first})") from None
    return model


def load_preset(preset, cls=None, *, dtype_policy=None, overrides=None):
    """The model of `preset` (see `PresetMixin.from_preset`); `cls` None takes any
    keras_zoo preset."""
    directory = preset_directory(preset)
    load_metadata(directory)
    stored, preset_cls = _stored_config(directory)
    overrides = dict(overrides or {})

    def load(**changes):
        return _build(directory, stored, dtype_policy, changes)

    if cls is None or issubclass(preset_cls, cls):
        return load(**overrides)
    return cls._from_other_preset(preset_cls, directory, load, overrides)


def save_preset(model, preset_dir, *, metadata=None, overwrite=False, check=None):
    """Writes `model` as a preset directory `preset_dir` (see the module docstring).

    The files go to a temporary sibling first; `check` (``check(tmp_dir)``, e.g. reload and
    compare) may raise to abandon it; then the directory is renamed into place. An existing
    `preset_dir` is refused unless `overwrite` (then it is replaced only once the new one is
    complete). `metadata` (JSON-ready) is added to the written metadata.

    Returns:
        `preset_dir`.
    """
    target = os.path.abspath(os.fspath(preset_dir))
    if os.path.lexists(target) and not overwrite:
        raise ValueError(f"Expected a new preset directory (or --overwrite). Received: "
                         f"{preset_dir} exists")
    parent, base = os.path.split(target)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{base}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        os.makedirs(tmp)
        _write_json(os.path.join(tmp, CONFIG_FILE), keras.saving.serialize_keras_object(model))
        model.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        _write_json(os.path.join(tmp, METADATA_FILE), {
            MARKER: FORMAT, "keras_zoo_version": keras_zoo.__version__,
            "keras_version": keras.__version__,
            "class_name": keras.saving.get_registered_name(type(model)),
            "parameter_count": int(model.count_params()), **_model_facts(model),
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            **(metadata or {})})
        if check is not None:
            check(tmp)
        _replace_directory(tmp, target)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return preset_dir


def _model_facts(model):
    """``num_classes`` of a task and the fixed ``input_size`` of a functional model."""
    facts = {}
    if getattr(model, "num_classes", None):
        facts["num_classes"] = int(model.num_classes)
    try:
        inputs = model.inputs  # functional models; a subclassed model has none
    except (AttributeError, ValueError):
        inputs = None
    if inputs and len(inputs) == 1 and None not in tuple(inputs[0].shape[1:3]):
        facts["input_size"] = [int(d) for d in inputs[0].shape[1:3]]
    return facts


def _replace_directory(new, target):
    old = None
    if os.path.lexists(target):
        old = f"{new}.old"
        os.rename(target, old)
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old) if os.path.isdir(old) else os.remove(old)


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


class PresetMixin:
    """``save_to_preset`` / ``from_preset`` for keras_zoo's backbones and tasks (keras-hub's
    names and layout; see the module docstring)."""

    def save_to_preset(self, preset_dir, *, metadata=None, overwrite=False):
        """Writes this model as a preset directory (`save_preset`); returns its path."""
        return save_preset(self, preset_dir, metadata=metadata, overwrite=overwrite)

    @classmethod
    def from_preset(cls, preset, *, dtype_policy=None, **overrides):
        """The model saved in `preset` (a directory, or the name of a known preset whose
        directory exists), with its weights.

        Args:
            preset: the preset directory.
            dtype_policy: None (as saved, float32), or a Keras dtype policy such as
                "mixed_bfloat16": the model built as under that global policy.
            **overrides: settings replacing those of the preset's config (a detector's
                ``min_size``, ``score_threshold``, ...).

        Raises:
            FileNotFoundError: no such directory, or a preset file is missing.
            ValueError: a preset of another task (one this class cannot be made from), of a
                newer keras_zoo, a file that does not parse or load.
        """
        return load_preset(preset, cls, dtype_policy=dtype_policy, overrides=overrides)

    @classmethod
    def _from_other_preset(cls, preset_cls, directory, load, overrides):
        """This class's model from a preset of `preset_cls` (not a subclass of this one);
        ``load(**overrides)`` builds that preset's own model. Default: refused."""
        raise ValueError(f"Expected a preset of {cls.__name__}. Received: {directory} holds a "
                         f"preset of {preset_cls.__name__} (models.{preset_cls.__name__}"
                         f".from_preset loads it)")
