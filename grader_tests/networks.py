"""Probing a student's network class through its contract (`params`, `loss(X, y=None)`).

Shared by the checks of assignments 02 and 04: a probe builds the network with np.random seeded
(leaving the global random state as it was) and reports one property, so that check_case can
compare it with an oracle and with the catalogued mistakes.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Sequence

import numpy as np

from grader_tests.checking import ContractError
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
