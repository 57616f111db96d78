"""Hidden checks of assignment 02's Solver: behaviour observed through a scripted model.

The scripted model and optimizer record what the Solver does (minibatches, learning rates,
optimizer state, losses), and its predictions are right only at one moment of training, so
the parameters the Solver keeps show whether it tracked the best validation accuracy.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from grader_tests.checking import GradingFailure, Mutant
from grader_tests.mutants.solver import MUTANTS

NUM_TRAIN, NUM_CLASSES, BATCH_SIZE, NUM_EPOCHS = 10, 3, 4, 3
LEARNING_RATE, LR_DECAY = 0.1, 0.5
BEST_STEP = 4
"""The model predicts correctly only while W == BEST_STEP, i.e. after the second epoch."""


class ScriptedModel:
    """params {'W': steps taken so far}; loss(X, y) checks that labels match images."""

    REMOTE_API = ("params", "loss")
    """What a Solver in the student's kernel may reach (see assignments.remote): the model contract."""

    def __init__(self):
        self.params = {"W": np.zeros(1), "b": np.zeros(1)}
        self.losses_returned: list[float] = []
        self.batch_sizes: list[int] = []
        self.misaligned = 0

    def loss(self, X, y=None):
        labels = X[:, 0].astype(int) % NUM_CLASSES
        right = int(round(float(self.params["W"][0]))) == BEST_STEP
        scores = np.eye(NUM_CLASSES)[labels if right else (labels + 1) % NUM_CLASSES]
        if y is None:
            return scores
        self.batch_sizes.append(len(y))
        self.misaligned += int(np.sum(np.asarray(y) != labels))
        loss = 1.0 / (1 + len(self.losses_returned))
        self.losses_returned.append(loss)
        return loss, {"W": np.ones(1), "b": np.ones(1)}


def scripted_update(w, dw, config=None):
    """An optimizer that updates in place (allowed by the contract) and records its config."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1.0)
    config["calls"] = config.get("calls", 0) + 1
    config.setdefault("seen_learning_rates", []).append(config["learning_rate"])
    w += dw
    return w, config


def observe(Solver) -> dict[str, Any]:
    """Train the scripted model with `Solver` and report what happened, by name."""
    X = np.repeat(np.arange(NUM_TRAIN, dtype=float)[:, None], 2, axis=1)
    y = np.arange(NUM_TRAIN) % NUM_CLASSES
    data = {"X_train": X, "y_train": y, "X_val": X[:6].copy(), "y_val": y[:6].copy()}
    model = ScriptedModel()
    solver = Solver(model, data, update_rule=scripted_update, optim_config={"learning_rate": LEARNING_RATE},
                    lr_decay=LR_DECAY, batch_size=BATCH_SIZE, num_epochs=NUM_EPOCHS, verbose=False)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        solver.train()
    configs = solver.optim_configs
    return {
        "number of losses recorded (one per iteration)": len(solver.loss_history),
        "losses recorded, in order": [round(float(v), 12) for v in solver.loss_history],
        "minibatch sizes": model.batch_sizes,
        "labels not matching their images": model.misaligned,
        "optimizer calls kept in each parameter's config": sorted(c.get("calls", 0) for c in configs.values()),
        "learning rates the optimizer saw": [round(v, 12) for v in configs["W"].get("seen_learning_rates", [])],
        "learning rate after training": round(configs["W"].get("learning_rate", float("nan")), 12),
        "train accuracy per epoch": [round(float(a), 6) for a in solver.train_acc_history],
        "validation accuracy per epoch": [round(float(a), 6) for a in solver.val_acc_history],
        "best validation accuracy": round(float(solver.best_val_acc), 6),
        "model.params['W'] after training (steps taken at the best epoch)": float(model.params["W"][0]),
    }


def expected_observation() -> dict[str, Any]:
    steps_per_epoch = NUM_TRAIN // BATCH_SIZE
    steps = NUM_EPOCHS * steps_per_epoch
    rates = [LEARNING_RATE * LR_DECAY**(i // steps_per_epoch) for i in range(steps)]
    accuracies = [1.0 if (epoch + 1) * steps_per_epoch == BEST_STEP else 0.0 for epoch in range(NUM_EPOCHS)]
    return {
        "number of losses recorded (one per iteration)": steps,
        "losses recorded, in order": [round(1.0 / (1 + i), 12) for i in range(steps)],
        "minibatch sizes": [BATCH_SIZE] * steps,
        "labels not matching their images": 0,
        "optimizer calls kept in each parameter's config": [steps, steps],
        "learning rates the optimizer saw": [round(r, 12) for r in rates],
        "learning rate after training": round(LEARNING_RATE * LR_DECAY**NUM_EPOCHS, 12),
        "train accuracy per epoch": accuracies,
        "validation accuracy per epoch": accuracies,
        "best validation accuracy": 1.0,
        "model.params['W'] after training (steps taken at the best epoch)": float(BEST_STEP),
    }


def _observe_safely(Solver) -> dict[str, Any] | BaseException:
    try:
        return observe(Solver)
    except Exception as error:  # the student's code may raise anything
        return error


def check_solver(Solver) -> None:
    """Grade a student's Solver class (its _step and train); raises GradingFailure on a mismatch."""
    expected = expected_observation()
    got = _observe_safely(Solver)
    scenario = (f"a scripted model: {NUM_TRAIN} training images, batch_size={BATCH_SIZE}, "
                f"num_epochs={NUM_EPOCHS}, learning_rate={LEARNING_RATE}, lr_decay={LR_DECAY}; "
                f"its predictions are right only after epoch {BEST_STEP // (NUM_TRAIN // BATCH_SIZE)}")
    if isinstance(got, dict) and got == expected:
        return
    lines = [f"Solver failed a hidden check on {scenario}."]
    if isinstance(got, BaseException):
        lines.append(f"  Solver.train raised {type(got).__name__}: {got}")
        differing = None
    else:
        differing = [key for key in expected if got[key] != expected[key]]
        for key in differing:
            lines += [f"  {key}:", f"    expected {expected[key]}", f"    got      {got[key]}"]
    for mutant in _matching(got, differing, MUTANTS):
        lines.append(f"  This looks like a known mistake: {mutant.name}. {mutant.hint}")
    raise GradingFailure("\n".join(lines))


def _matching(got, differing: list[str] | None, mutants: list[Mutant]) -> list[Mutant]:
    found = []
    for mutant in mutants:
        theirs = _observe_safely(mutant.implementation)
        if isinstance(got, BaseException):
            same = isinstance(theirs, BaseException) and type(theirs) is type(got)
        else:
            same = isinstance(theirs, dict) and all(theirs[k] == got[k] for k in differing)
        if same:
            found.append(mutant)
    return found
