"""assignments.model_io: a saved model comes back exactly, and bad files get clear errors."""
import pickle
import types

import numpy as np
import pytest

from assignments.model_io import ModelFileError, load_model_file, save_model


def model():
    return types.SimpleNamespace(params={"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros(3, np.float32)},
                                 state={"running_mean1": np.ones(3)})


def test_round_trip_keeps_config_params_state_and_mean(tmp_path):
    path = save_model(tmp_path / "net", model(), {"hidden_dim": 7, "filters": [8, 16]}, np.full((3, 2, 2), 0.5))
    assert path.name == "net.npz"
    config, params, state, mean = load_model_file(path)
    assert config == {"hidden_dim": 7, "filters": [8, 16]}
    assert np.array_equal(params["W1"], model().params["W1"]) and params["b1"].dtype == np.float32
    assert np.array_equal(state["running_mean1"], np.ones(3))
    assert mean.shape == (3, 2, 2)


def test_a_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file; run the notebook's save cell"):
        load_model_file(tmp_path / "absent.npz")


def test_a_pickled_object_is_refused_without_running_it(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "evil.npz"
    np.savez(path, config_json=np.array("{}"), mean_image=np.zeros(1),
             **{"param.W": np.array([Boom()], dtype=object)})
    with pytest.raises(ModelFileError, match="not a model file written by save_model"):
        load_model_file(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("content, message", [
    (b"not a zip at all", "not a model file written by save_model"),
    (pickle.dumps({"W": 1}), "not a model file written by save_model"),
])
def test_garbage_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model_file(path)


def test_a_file_without_config_or_params_is_refused(tmp_path):
    np.savez(tmp_path / "a.npz", mean_image=np.zeros(1), **{"param.W": np.zeros(1)})
    with pytest.raises(ModelFileError, match="lacks config_json"):
        load_model_file(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", config_json=np.array("{}"), mean_image=np.zeros(1))
    with pytest.raises(ModelFileError, match="holds no parameters"):
        load_model_file(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", config_json=np.array("{oops"), mean_image=np.zeros(1), **{"param.W": np.zeros(1)})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model_file(tmp_path / "c.npz")
