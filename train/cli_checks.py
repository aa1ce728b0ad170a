"""Checks of a run directory's JSON files, before a subcommand reads them.

A truncated or hand-edited ``config.json``/``status.json`` (a full disk, an
editor) would otherwise surface as a bare ``json`` message without the file's
name, or as a ``KeyError`` deep in the library; these checks name the file
and say what is wrong, as a ValueError (one line, exit 2).
"""

import json
import os

# The fields of config.json that `keras-zoo evaluate` and `export` read; `keras-zoo
# train` writes them in every run (run.make_config and the recipes' get_config).
RUN_CONFIG_FIELDS = ("recipe", "dataset", "data_dir", "batch_size", "validation_split", "seed")


def read_json_object(path):
    """The JSON object in `path`; a ValueError names the file when it is not one."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        reason = "bytes that are not UTF-8 text"
    except json.JSONDecodeError as e:
        reason = f"invalid JSON ({e.msg} at line {e.lineno} column {e.colno})"
    else:
        if isinstance(value, dict):
            return value
        reason = f"a JSON {type(value).__name__}"
    raise ValueError(f"Expected {path} to hold the JSON object that keras-zoo train wrote. "
                     f"Received: {reason}; the file is damaged (truncated, or edited)")


def check_run_json(directory, *, required=()):
    """Checks `directory`'s config.json (holding the `required` fields) and
    status.json, where they exist."""
    config_path = os.path.join(directory, "config.json")
    if os.path.isfile(config_path):
        missing = [k for k in required if k not in read_json_object(config_path)]
        if missing:
            raise ValueError(f"Expected {config_path} to hold the fields {', '.join(required)}. "
                             f"Received: no {', '.join(missing)}; the run directory is damaged "
                             f"or was not written by keras-zoo train")
    status_path = os.path.join(directory, "status.json")
    if os.path.isfile(status_path):
        read_json_object(status_path)


def check_run_files(args):
    """Checks RUN_DIR of a subcommand that takes one (evaluate, export)."""
    if getattr(args, "run_dir", None) is not None:
        check_run_json(args.run_dir, required=RUN_CONFIG_FIELDS)
