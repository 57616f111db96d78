"""Saving a trained model for grading, and loading it back safely.

A model file is a NumPy .npz archive holding only arrays: the parameters, any extra state (such as
batch-norm running statistics), the mean image subtracted from the inputs, and the JSON config
that rebuilds the model. It is read with `allow_pickle=False`, so loading it never runs code.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

CONFIG, MEAN_IMAGE = "config_json", "mean_image"
PARAM, STATE = "param.", "state."


class ModelFileError(Exception):
    """A model file is missing, unreadable, or not what save_model writes."""


def save_model(path: str | Path, model: Any, config: dict, mean_image: np.ndarray) -> Path:
    """Write `model.params` (and `model.state`, if the model has one) to an .npz file.

    Inputs:
    - path: the file to write (".npz" is added when missing).
    - model: any model with a `params` dict of arrays; an optional `state` dict of arrays.
    - config: the keyword arguments that rebuild the model (JSON-serialisable).
    - mean_image: the mean training image subtracted from the inputs, shape (C, H, W).

    Returns the path written.
    """
    path = Path(path).with_suffix(".npz")
    arrays = {PARAM + name: np.asarray(value) for name, value in model.params.items()}
    arrays |= {STATE + name: np.asarray(value) for name, value in getattr(model, "state", {}).items()}
    np.savez(path, **arrays, **{CONFIG: np.array(json.dumps(config)), MEAN_IMAGE: np.asarray(mean_image)})
    return path


def load_model_file(path: str | Path) -> tuple[dict, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Read a file written by save_model without unpickling anything.

    Returns a tuple (config, params, state, mean_image); raises ModelFileError saying what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file; run the notebook's save cell (save_model)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise ModelFileError(f"{path} is not a model file written by save_model "
                             f"(an .npz archive of plain arrays): {error}") from error
    missing = [key for key in (CONFIG, MEAN_IMAGE) if key not in arrays]
    if missing:
        raise ModelFileError(f"{path} lacks {', '.join(missing)}: write it with save_model")
    try:
        config = json.loads(str(arrays.pop(CONFIG)))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: the saved config is not valid JSON: {error}") from error
    params = {name[len(PARAM):]: value for name, value in arrays.items() if name.startswith(PARAM)}
    state = {name[len(STATE):]: value for name, value in arrays.items() if name.startswith(STATE)}
    if not params:
        raise ModelFileError(f"{path} holds no parameters")
    return config, params, state, arrays[MEAN_IMAGE]
