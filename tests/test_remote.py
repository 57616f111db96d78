"""assignments.jail.remote: values, write-back, RNG, live containers, errors and limits across the wall.

The student's side runs in a thread here, serving a namespace over a socket pair; the real
kernel case is covered by the autograde tests.
"""
import copy
import json
import pickle
import socket
import threading

import numpy as np
import pytest

from assignments.jail import remote


class Model:
    """A student's network: params in a dict, a loss method."""

    def __init__(self):
        self.params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
        self.history = []

    def loss(self, X):
        self.history.append(float(X.sum()))
        return X @ self.params["W"] + self.params["b"]


class Recorder:
    """A grader object offered to the student's side: only `params` and `loss` are reachable."""

    REMOTE_API = ("params", "loss")

    def __init__(self):
        self.params = {"W": np.zeros(1)}
        self.secret = "grader internals"

    def loss(self, X):
        return float(np.sum(X))


def sgd_in_place(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 0.5)
    w -= config["learning_rate"] * dw
    return w, config


def train(model, update):
    """A student's Solver step driving a grader's model and optimizer, then keeping a copy."""
    for key, value in model.params.items():
        next_value, _ = update(value, np.ones_like(value), {"learning_rate": 1.0})
        model.params[key] = next_value
    model.params = {key: value.copy() for key, value in model.params.items()}
    return model.loss(np.ones(3))


def read_secret(model):
    return model.secret


def dunder_escape(model):
    return model.loss.__globals__


def raises_key_error(key):
    return {}[key]


class StudentError(Exception):
    pass


def raises_own_error():
    raise StudentError("my own exception")


def draw(n):
    return np.random.randn(n)


@pytest.fixture
def student():
    """(grader endpoint, the student's namespace) with the student side serving in a thread."""
    ours, theirs = socket.socketpair()
    namespace = {
        "Model": Model, "sgd": sgd_in_place, "train": train, "read_secret": read_secret,
        "dunder_escape": dunder_escape, "raises_key_error": raises_key_error,
        "raises_own_error": raises_own_error, "draw": draw, "MODEL_FILE": "model.npz",
        "scale": lambda x, factor=2.0: x * factor, "identity": lambda value: value,
    }
    server = remote.Endpoint(theirs, namespace=namespace, trusting=True)
    thread = threading.Thread(target=lambda: _serve_quietly(server), daemon=True)
    thread.start()
    endpoint = remote.Endpoint(ours, trusting=False)
    endpoint.deadline = None
    yield endpoint, namespace
    endpoint.close()
    thread.join(5)


def _serve_quietly(endpoint):
    try:
        endpoint.serve()
    except remote.ChannelClosed:
        pass


def test_values_cross_by_value_with_their_types(student):
    endpoint, _ = student
    identity = endpoint.lookup("identity")
    values = [None, True, 3, 2.5, "text", b"\x00\x01", 1 + 2j, (1, [2, 3]), {"a": 1, 2: "b"}, {1, 2},
              slice(1, None, 2), Ellipsis, np.float64(1.5), np.int32(7), np.float32, np.dtype("float32"), float]
    for value in values:
        back = identity(value)
        assert back == value and type(back) is type(value), (value, back)
    for array in [np.arange(12.0).reshape(3, 4), np.arange(6, dtype=np.float32)[::2], np.array(3.0),
                  np.zeros((0, 5)), np.array([True, False]), np.array(["a", "bc"])]:
        back = identity(array)
        assert back.shape == array.shape and back.dtype == array.dtype and np.array_equal(back, array)


def test_a_name_the_notebook_lacks_is_a_key_error(student):
    endpoint, _ = student
    assert endpoint.lookup("MODEL_FILE") == "model.npz"
    with pytest.raises(KeyError):
        endpoint.lookup("not_defined")


def test_keyword_arguments_and_results(student):
    endpoint, _ = student
    assert np.array_equal(endpoint.lookup("scale")(np.ones(2), factor=3.0), [3.0, 3.0])


def test_in_place_changes_of_arguments_are_written_back(student):
    endpoint, _ = student
    w, config = np.array([1.0, 2.0]), {}
    next_w, returned = endpoint.lookup("sgd")(w, np.array([2.0, 2.0]), config)
    assert np.array_equal(w, [0.0, 1.0]) and np.array_equal(next_w, [0.0, 1.0])
    assert config == {"learning_rate": 0.5} and returned == config


def test_numpy_global_random_state_is_shared(student):
    endpoint, _ = student
    np.random.seed(5)
    theirs = endpoint.lookup("draw")(3)
    after_theirs = np.random.randn(2)
    np.random.seed(5)
    ours = np.random.randn(3)
    assert np.array_equal(theirs, ours) and np.array_equal(after_theirs, np.random.randn(2))


def test_objects_stay_remote_and_their_dicts_are_live(student):
    endpoint, namespace = student
    model = endpoint.lookup("Model")()
    assert isinstance(model, remote.Remote) and not isinstance(model, Model)
    model.params["W"] = 2 * np.eye(2)
    assert np.array_equal(model.loss(np.ones((1, 2))), [[2.0, 2.0]])
    assert dict(model.params.items()).keys() == {"W", "b"} and len(model.params) == 2 and "b" in model.params
    assert list(model.history) == [2.0] and np.asarray(model.history).shape == (1,)
    model.params["b"] = np.ones(2)
    model.note = "set from the grader"
    assert model.note == "set from the grader"
    assert type(model.loss.__annotations__) is dict and type(model.__dict__) is dict


def test_student_code_may_call_back_only_what_the_grader_offers(student):
    endpoint, _ = student
    recorder = Recorder()
    loss = endpoint.lookup("train")(recorder, sgd_in_place)
    assert np.array_equal(recorder.params["W"], [-1.0]) and loss == 3.0
    with pytest.raises(PermissionError, match="does not allow getattr secret"):
        endpoint.lookup("read_secret")(recorder)
    with pytest.raises(PermissionError):
        endpoint.lookup("dunder_escape")(recorder)


def test_exceptions_keep_builtin_types_and_name_others(student):
    endpoint, _ = student
    with pytest.raises(KeyError, match="missing"):
        endpoint.lookup("raises_key_error")("missing")
    with pytest.raises(remote.RemoteError, match="StudentError: my own exception"):
        endpoint.lookup("raises_own_error")()
    with pytest.raises(TypeError):
        endpoint.lookup("scale")()


def test_a_dead_peer_is_channel_closed_not_an_ordinary_error():
    ours, theirs = socket.socketpair()
    endpoint = remote.Endpoint(ours, trusting=False)
    theirs.close()
    with pytest.raises(remote.ChannelClosed):
        endpoint.lookup("anything")
    assert not issubclass(remote.ChannelClosed, Exception)


def test_a_silent_peer_times_out():
    ours, theirs = socket.socketpair()
    endpoint = remote.Endpoint(ours, trusting=False)
    endpoint.deadline = 0.0
    with pytest.raises(remote.CallTimeout):
        endpoint.lookup("anything")
    assert not issubclass(remote.CallTimeout, Exception)
    theirs.close()


@pytest.mark.parametrize("header, problem", [
    ({"value": {"$": "array", "b": 0, "dtype": "|O", "shape": [1]}}, "cannot cross"),
    ({"value": {"$": "array", "b": 0, "dtype": "<f8", "shape": [3]}}, "does not hold"),
    ({"value": {"$": "module", "v": "os"}}, "unknown value tag"),
    ({"value": {"$": "type", "v": "os.system"}}, "unknown type"),
    ({"value": {"$": "ref", "id": 99}}, "no object 99"),
])
def test_frames_naming_anything_unexpected_are_refused(header, problem):
    ours, theirs = socket.socketpair()
    endpoint = remote.Endpoint(ours, trusting=False)
    remote.Endpoint(theirs, trusting=True)._send(header, [b"\x00" * 8])
    with pytest.raises(remote.ProtocolError, match=problem):
        endpoint.lookup("x")


def test_a_grader_object_kept_by_the_student_fails_as_an_ordinary_exception_after_grading():
    """A student's code that kept a grader object (a callable the grader passed) can handle the failure
    of using it after the session with its own `except Exception`."""
    ours, theirs = socket.socketpair()
    kept = []
    namespace = {"keep": kept.append}
    server = remote.Endpoint(theirs, namespace=namespace, trusting=True)
    thread = threading.Thread(target=lambda: _serve_quietly(server), daemon=True)
    thread.start()
    endpoint = remote.Endpoint(ours, trusting=False)
    endpoint.lookup("keep")(lambda x: 2 * x)
    endpoint.close()
    thread.join(5)
    [update] = kept
    with pytest.raises(remote.SessionOver, match="hidden tests, which have finished"):
        update(1)
    assert issubclass(remote.SessionOver, Exception)


# ------------------------------- what the grader hands to student code behaves like the plain object


class GraderModel:
    """A grader object whose dicts and lists student code reads (a scripted model, a config)."""

    REMOTE_API = ("params", "config", "history", "loss")

    def __init__(self):
        self.params = {"W": np.arange(4.0).reshape(2, 2), "b": np.zeros(2)}
        self.config = {"learning_rate": 0.1, "betas": [0.9, 0.999], "name": "adam"}
        self.history = [1.0, 0.5, 0.25]

    def loss(self, X):
        return float(np.sum(X @ self.params["W"]))


OPERATIONS = {
    "copy.copy": copy.copy,
    "copy.deepcopy": copy.deepcopy,
    "dict(...)": dict,
    "{**d}": lambda d: {**d},
    ".items()": lambda d: [(k, v) for k, v in d.items()],
    "iteration": lambda d: [k for k in d],
    "isinstance(d, dict)": lambda d: isinstance(d, dict),
    "pickle": lambda d: pickle.loads(pickle.dumps(d)),
    "json.dumps": lambda d: json.dumps(d, sort_keys=True),
    "len and truth": lambda d: (len(d), bool(d)),
    "== a plain dict": lambda d: d == {"learning_rate": 0.1, "betas": [0.9, 0.999], "name": "adam"},
    ".get and in": lambda d: (d.get("name"), d.get("absent", 7), "name" in d),
}
LIST_OPERATIONS = {
    "copy.copy": copy.copy, "copy.deepcopy": copy.deepcopy, "list(...)": list, "iteration": lambda l: [*l],
    "isinstance(l, list)": lambda l: isinstance(l, list), "pickle": lambda l: pickle.loads(pickle.dumps(l)),
    "json.dumps": json.dumps, "np.asarray": np.asarray, "sum and max": lambda l: (sum(l), max(l)),
    "== a plain list": lambda l: l == [1.0, 0.5, 0.25],
}


def student_applies(model, attribute, table, operation):
    """Student code doing one ordinary thing with a container the grader handed over."""
    return {"dict": OPERATIONS, "list": LIST_OPERATIONS}[table][operation](getattr(model, attribute))


def _same(got, expected) -> bool:
    if isinstance(expected, np.ndarray):
        return isinstance(got, np.ndarray) and np.array_equal(got, expected)
    if isinstance(expected, dict):
        return type(got) is dict and got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in got)
    if isinstance(expected, (list, tuple)):
        return type(got) is type(expected) and len(got) == len(expected) and all(map(_same, got, expected))
    return type(got) is type(expected) and got == expected


@pytest.fixture
def applying(student):
    endpoint, namespace = student
    namespace["student_applies"] = student_applies
    return endpoint.lookup("student_applies")


@pytest.mark.parametrize("attribute, operation", [
    (attribute, operation) for attribute in ("params", "config") for operation in OPERATIONS
    if (attribute, operation) != ("params", "json.dumps")])  # json needs plain contents, not arrays
def test_a_grader_dict_behaves_like_a_plain_dict_in_student_code(applying, attribute, operation):
    model = GraderModel()
    expected = OPERATIONS[operation](getattr(model, attribute))
    assert _same(applying(model, attribute, "dict", operation), expected)


@pytest.mark.parametrize("operation", LIST_OPERATIONS)
def test_a_grader_list_behaves_like_a_plain_list_in_student_code(applying, operation):
    model = GraderModel()
    assert _same(applying(model, "history", "list", operation), LIST_OPERATIONS[operation](model.history))


def keep_best(model):
    """A Solver keeping its best parameters: deep copies, changes the live dict, then restores."""
    best = copy.deepcopy(model.params)
    model.params["W"] = model.params["W"] + 100
    assert not np.array_equal(best["W"], model.params["W"])
    model.params = best
    return type(best).__name__, sorted(best)


def test_a_solver_keeping_deep_copied_params_restores_them_in_the_grader(student):
    endpoint, namespace = student
    namespace["keep_best"] = keep_best
    model = GraderModel()
    before = copy.deepcopy(model.params)
    assert endpoint.lookup("keep_best")(model) == ("dict", ["W", "b"])
    assert all(np.array_equal(model.params[k], before[k]) for k in before)


def copy_model(model):
    """Student code copying the model object itself, then training only the copy."""
    twin = copy.deepcopy(model)
    twin.params["W"] = np.zeros((2, 2))
    return twin.loss(np.ones((1, 2))), model.loss(np.ones((1, 2)))


def test_a_grader_object_deep_copies_on_its_own_side_and_refuses_pickle(student):
    endpoint, namespace = student
    namespace["copy_model"] = copy_model
    namespace["pickle_model"] = pickle.dumps
    model = GraderModel()
    assert endpoint.lookup("copy_model")(model) == (0.0, 6.0)
    assert np.array_equal(model.params["W"], np.arange(4.0).reshape(2, 2))
    with pytest.raises(TypeError, match="cannot pickle .* lives in another process"):
        endpoint.lookup("pickle_model")(model)


def test_a_dict_view_refuses_attributes_as_a_plain_dict_does(student):
    endpoint, namespace = student
    namespace["set_attribute"] = lambda model: setattr(model.params, "x", 1)
    namespace["get_attribute"] = lambda model: model.params.x
    for name in ("set_attribute", "get_attribute"):
        with pytest.raises(AttributeError):
            endpoint.lookup(name)(GraderModel())


def test_a_view_passed_back_to_its_owner_is_not_written_back_through_the_channel(student):
    endpoint, namespace = student
    namespace["add_key"] = lambda params: params.__setitem__("c", np.ones(1))
    model = endpoint.lookup("Model")()
    operations = []
    original = endpoint.operate
    endpoint.operate = lambda op, *args: operations.append(op) or original(op, *args)
    endpoint.lookup("add_key")(model.params)
    assert sorted(model.params) == ["W", "b", "c"] and "delitem" not in operations and "setitem" not in operations
