"""Probing a student's network class through its contract (`params`, `loss(X, y=None)`).

Shared by the checks of assignments 02, 03 and 04: `structure_cases` makes the cases on a freshly
built network (shapes, initial values, dtypes, names); a probe builds the network with np.random seeded
(leaving the global random state as it was) and reports one property, so that check_case can
compare it with an oracle and with the catalogued mistakes.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Sequence

import numpy as np

from grader_tests.checking import Case, ContractError
from grader_tests.gradients import split_pair

INIT_SEED = 0
"""np.random is seeded with this while a network is constructed (and restored afterwards)."""
STD_RTOL = 0.15
"""How far std(W) / weight_scale may be from 1 (every W the checks measure has at least 800 entries)."""


def build_seeded(Net: type, kwargs: dict[str, Any], positional: Sequence[str] = ()) -> Any:
    """Net(*positional values, **other kwargs) with np.random seeded; the global state is restored."""
    kwargs = dict(kwargs)
    args = [kwargs.pop(name) for name in positional if name in kwargs]
    state = np.random.get_state()
    np.random.seed(INIT_SEED)
    try:
        return Net(*args, **kwargs)
    finally:
        np.random.set_state(state)


def params_dict(model: Any) -> dict:
    """model.params, or ContractError when the network keeps no dict of parameters."""
    params = getattr(model, "params", None)
    if not isinstance(params, Mapping):
        raise ContractError(f"the network must keep its parameters in a dict model.params, "
                            f"got {type(params).__name__}")
    return params


def model_params(model: Any, keys: Sequence[str]) -> list[Any]:
    """model.params[k] for each key, or ContractError saying what is missing."""
    params = params_dict(model)
    missing = [k for k in keys if k not in params]
    if missing:
        raise ContractError(f"model.params has no {', '.join(map(repr, missing))} "
                            f"(its keys: {sorted(params)})")
    return [params[k] for k in keys]


def loss_and_grads(model: Any, X: Any, y: Any, keys: Sequence[str], loss_name: str
                   ) -> tuple[Any, list[Any]]:
    """model.loss(X, y) as (loss, [grads[k] for k in keys]), or ContractError on the wrong form."""
    loss, grads = split_pair(model.loss(X, y), loss_name, ("loss", "grads"))
    if not isinstance(grads, dict):
        raise ContractError(f"loss(X, y) must return grads as a dict keyed like params, "
                            f"got {type(grads).__name__}")
    missing = [k for k in keys if k not in grads]
    if missing:
        raise ContractError(f"grads has no {', '.join(map(repr, missing))} "
                            f"(its keys: {sorted(grads)})")
    return loss, [grads[k] for k in keys]


def net_probe(kind: str, input_names: Sequence[str], keys: Sequence[str], *,
              constructor_args: Sequence[str], default_weight_scale: float, default_dtype: Any,
              loss_name: str, positional: Sequence[str] = ()) -> Callable[[type], Callable]:
    """adapter(Net) -> function(*case inputs) that builds a network and reports one property.

    kind: "shapes" (of params[k]), "biases", "weight std" (std(W) / weight_scale per W), "dtypes"
    (whether params[k] has the requested dtype), "scores" (loss(X)) or "loss" ((loss, *grads)).
    Inputs named like constructor arguments go to the constructor; X, y and params by key follow.
    """
    def adapter(Net):
        def probe(*values):
            given = dict(zip(input_names, values))
            kwargs = {k: v for k, v in given.items() if k in constructor_args}
            model = build_seeded(Net, kwargs, positional)
            if kind == "shapes":
                return tuple(tuple(np.shape(p)) for p in model_params(model, keys))
            if kind == "biases":
                return tuple(model_params(model, keys))
            if kind == "weight std":
                scale = kwargs.get("weight_scale", default_weight_scale)
                return tuple(float(np.std(W)) / scale for W in model_params(model, keys))
            if kind == "dtypes":
                dtype = np.dtype(kwargs.get("dtype", default_dtype))
                return tuple(np.asarray(p).dtype == dtype for p in model_params(model, keys))
            model_params(model, keys)  # the keys exist before they are replaced
            for key in keys:
                model.params[key] = given[key]
            if kind == "scores":
                return model.loss(given["X"])
            loss, grads = loss_and_grads(model, given["X"], given["y"], keys, loss_name)
            return (loss, *grads)
        return probe
    return adapter


def constructor_call(name: str, kwargs: dict[str, Any], positional: Sequence[str] = ()) -> str:
    """How a case's constructor call reads in its description.

    Inputs:
    - name: the class ("FullyConnectedNet").
    - kwargs: the arguments in order; a dtype shows as np.<name>.
    - positional: the arguments shown without their name ("hidden_dims").
    Returns e.g. "FullyConnectedNet([6, 5], input_dim=8, dtype=np.float64)".
    """
    args = []
    for k, v in kwargs.items():
        shown = f"np.{np.dtype(v).name}" if k == "dtype" else repr(v)
        args.append(shown if k in positional else f"{k}={shown}")
    return f"{name}({', '.join(args)})"


def mlp_param_shapes(dims: Sequence[int], normalized: bool = False) -> dict[str, tuple[int, ...]]:
    """The contract's parameters of a fully-connected network and their shapes, in order.

    Inputs:
    - dims: [input_dim, *hidden_dims, num_classes].
    - normalized: whether each hidden layer has a gamma and a beta (batch or layer norm).

    Returns {"W1": (dims[0], dims[1]), "b1": (dims[1],), ["gamma1": (dims[1],), "beta1": (dims[1],),]
    ..., "WL": ..., "bL": ...}: no gamma or beta after the last affine layer.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        shapes[f"W{i}"], shapes[f"b{i}"] = (d_in, d_out), (d_out,)
        if normalized and i < len(dims) - 1:
            shapes[f"gamma{i}"], shapes[f"beta{i}"] = (d_out,), (d_out,)
    return shapes


def known_params(rng: np.random.Generator, dims: Sequence[int], normalized: bool = False,
                 dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """Parameter values for a fully-connected network's loss cases: unit-scale activations, no zeros.

    Inputs:
    - rng: where the values come from (drawn in the order of `mlp_param_shapes`).
    - dims: [input_dim, *hidden_dims, num_classes].
    - normalized: whether to add gamma (near 1) and beta for each hidden layer.
    - dtype: the dtype of every array.

    Returns {name: array} keyed and shaped like `mlp_param_shapes(dims, normalized)`.
    """
    params = {}
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{i}"] = (1.5 / np.sqrt(d_in) * rng.standard_normal((d_in, d_out))).astype(dtype)
        params[f"b{i}"] = (0.3 * rng.standard_normal(d_out)).astype(dtype)
        if normalized and i < len(dims) - 1:
            params[f"gamma{i}"] = (1 + 0.3 * rng.standard_normal(d_out)).astype(dtype)
            params[f"beta{i}"] = (0.3 * rng.standard_normal(d_out)).astype(dtype)
    return params


def structure_cases(call: str, kwargs: dict[str, Any], shapes: Mapping[str, tuple[int, ...]],
                    kinds: Sequence[str], *, weight_scale: float | None = None, dtype: Any = None
                    ) -> list[Case]:
    """Cases on a freshly built network: what model.params holds right after the constructor.

    Inputs:
    - call: the constructor call as the descriptions show it, e.g. "TwoLayerNet() (the defaults)".
    - kwargs: the constructor's arguments, the inputs of every case.
    - shapes: every parameter the contract names -> its shape, in order (W1, b1, [gamma1, beta1,] ...).
    - kinds: the cases to make, in this order, from
      "shapes" (of every parameter), "biases" (every b is zeros),
      "weight std" (std(W) / weight_scale is about 1 for every W, within STD_RTOL),
      "dtypes" (every parameter has `dtype`), "names" (params holds exactly these names),
      "init" (every gamma is ones, every beta zeros).
    - weight_scale: the scale in effect for this call (given or default), for "weight std".
    - dtype: the dtype in effect for this call (given or default), for "dtypes".

    Returns one Case per kind, with extra = {"kind": kind, "keys": the parameter names it
    concerns, "parts": a name for each part of the expected tuple}, as `net_probe` reads them.
    """
    if ("weight std" in kinds and weight_scale is None) or ("dtypes" in kinds and dtype is None):
        raise ValueError("structure_cases: 'weight std' needs weight_scale, 'dtypes' needs dtype")
    keys = list(shapes)
    weights = [k for k in keys if k.startswith("W")]
    biases = [k for k in keys if k.startswith("b") and not k.startswith("beta")]
    scaling = [k for k in keys if k.startswith(("gamma", "beta"))]
    listed = ", ".join(map(repr, keys))
    initial = tuple(np.ones(shapes[k]) if k.startswith("gamma") else np.zeros(shapes[k]) for k in scaling)
    specs = {  # kind: (description, keys checked, expected, parts, tolerance)
        "shapes": (f"the shapes of model.params[{listed}] after {call}; expected those shapes", keys,
                   tuple(shapes[k] for k in keys), [f"params[{k!r}].shape" for k in keys], {}),
        "biases": (f"the initial biases {', '.join(biases)} after {call}; expected zeros", biases,
                   tuple(np.zeros(shapes[k]) for k in biases), [f"params[{k!r}]" for k in biases], {}),
        "weight std": (f"the spread of the initial weights after {call}: std(W) / weight_scale for "
                       f"{', '.join(weights)} (weight_scale = {weight_scale}); expected about 1 (within "
                       f"{STD_RTOL:.0%}), from weight_scale * standard normal values", weights,
                       tuple(1.0 for _ in weights), [f"std({k}) / weight_scale" for k in weights],
                       {"rtol": STD_RTOL, "atol": 0.0}),
        "dtypes": (f"whether each of model.params[{listed}] has dtype {np.dtype(dtype)} after {call}; "
                   f"expected True for all", keys, tuple(True for _ in keys),
                   [f"params[{k!r}].dtype" for k in keys], {}),
        "names": (f"the names in model.params after {call}; expected exactly {', '.join(keys)} "
                  f"({len(keys)} entries)", keys, (*(True for _ in keys), len(keys)),
                  [*(f"{k!r} in params" for k in keys), "len(params)"], {}),
        "init": (f"the initial {', '.join(scaling)} after {call}; expected gamma = ones, beta = zeros",
                 scaling, initial, [f"params[{k!r}]" for k in scaling], {}),
    }
    cases = []
    for kind in kinds:
        description, checked, expected, parts, tolerance = specs[kind]
        cases.append(Case(description, dict(kwargs), expected, **tolerance,
                          extra={"kind": kind, "keys": checked, "parts": parts}))
    return cases
