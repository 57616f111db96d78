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
from grader_tests.mutants.fully_connected_solver import MUTANTS

NUM_TRAIN, NUM_VAL, NUM_CLASSES, BATCH_SIZE, NUM_EPOCHS = 10, 6, 3, 4, 3
LEARNING_RATE, LR_DECAY = 0.1, 0.5
BEST_STEP, LAST_STEP = 4, 6
"""The model classifies validation images right only while W == BEST_STEP (after the second
epoch) and training images only while W == LAST_STEP (after the third): a Solver that measures
validation accuracy on the training data keeps the wrong parameters."""
GLOBAL_SEEDS = (1, 2)
"""np.random is seeded with each in turn for two trainings with the same Solver seed: minibatches
drawn from self.rng are the same in both."""


class ScriptedModel:
    """params {'W': steps taken so far}; loss(X, y) checks that labels match images.

    Image i is the row (i, 0) for training and (i, 1) for validation; its label is i % NUM_CLASSES.
    """

    REMOTE_API = ("params", "loss")
    """What a Solver in the student's kernel may reach (see assignments.jail.remote): the model contract."""

    def __init__(self):
        self.params = {"W": np.zeros(1), "b": np.zeros(1)}
        self.losses_returned: list[float] = []
        self.minibatches: list[list[int]] = []
        self.misaligned = 0

    def loss(self, X, y=None):
        labels = X[:, 0].astype(int) % NUM_CLASSES
        step = int(round(float(self.params["W"][0])))
        right = np.where(X[:, 1] == 1, step == BEST_STEP, step == LAST_STEP)
        scores = np.eye(NUM_CLASSES)[np.where(right, labels, (labels + 1) % NUM_CLASSES)]
        if y is None:
            return scores
        self.minibatches.append([int(i) for i in X[:, 0]])
        self.misaligned += int(np.sum(np.asarray(y) != labels))
        loss = 1.0 / (1 + len(self.losses_returned))
        self.losses_returned.append(loss)
        return loss, {"W": np.ones(1), "b": np.ones(1)}


def scripted_update(w, dw, config=None):
    """An optimizer that updates w in place and returns a new config recording the calls (both
    allowed by the contract): a Solver must keep the config it returns."""
    config = dict(config or {})
    config.setdefault("learning_rate", 1.0)
    config["calls"] = config.get("calls", 0) + 1
    config["seen_learning_rates"] = [*config.get("seen_learning_rates", []), config["learning_rate"]]
    w += dw
    return w, config


def _train(Solver, global_seed: int) -> tuple[Any, ScriptedModel]:
    """A trained Solver on the scripted model, np.random seeded with `global_seed` (restored after)."""
    index = np.arange(max(NUM_TRAIN, NUM_VAL), dtype=float)
    X, X_val = (np.stack([index[:n], np.full(n, part)], axis=1) for n, part in ((NUM_TRAIN, 0), (NUM_VAL, 1)))
    data = {"X_train": X, "y_train": np.arange(NUM_TRAIN) % NUM_CLASSES,
            "X_val": X_val, "y_val": np.arange(NUM_VAL) % NUM_CLASSES}
    model = ScriptedModel()
    state = np.random.get_state()
    np.random.seed(global_seed)
    try:
        solver = Solver(model, data, update_rule=scripted_update, optim_config={"learning_rate": LEARNING_RATE},
                        lr_decay=LR_DECAY, batch_size=BATCH_SIZE, num_epochs=NUM_EPOCHS, verbose=False)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            solver.train()
    finally:
        np.random.set_state(state)
    return solver, model


def observe(Solver) -> dict[str, Any]:
    """Train the scripted model with `Solver` (twice, see GLOBAL_SEEDS) and report what happened, by name."""
    solver, model = _train(Solver, GLOBAL_SEEDS[0])
    _, again = _train(Solver, GLOBAL_SEEDS[1])
    configs = solver.optim_configs
    return {
        "number of losses recorded (one per iteration)": len(solver.loss_history),
        "losses recorded, in order": [round(float(v), 12) for v in solver.loss_history],
        "minibatch sizes": [len(batch) for batch in model.minibatches],
        "labels not matching their images": model.misaligned,
        "the same minibatches for the same seed, whatever np.random's state": model.minibatches == again.minibatches,
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
    return {
        "number of losses recorded (one per iteration)": steps,
        "losses recorded, in order": [round(1.0 / (1 + i), 12) for i in range(steps)],
        "minibatch sizes": [BATCH_SIZE] * steps,
        "labels not matching their images": 0,
        "the same minibatches for the same seed, whatever np.random's state": True,
        "optimizer calls kept in each parameter's config": [steps, steps],
        "learning rates the optimizer saw": [round(r, 12) for r in rates],
        "learning rate after training": round(LEARNING_RATE * LR_DECAY**NUM_EPOCHS, 12),
        "train accuracy per epoch": [1.0 if (e + 1) * steps_per_epoch == LAST_STEP else 0.0
                                     for e in range(NUM_EPOCHS)],
        "validation accuracy per epoch": [1.0 if (e + 1) * steps_per_epoch == BEST_STEP else 0.0
                                          for e in range(NUM_EPOCHS)],
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
    steps_per_epoch = NUM_TRAIN // BATCH_SIZE
    scenario = (f"a scripted model: {NUM_TRAIN} training and {NUM_VAL} validation images, "
                f"batch_size={BATCH_SIZE}, num_epochs={NUM_EPOCHS}, learning_rate={LEARNING_RATE}, "
                f"lr_decay={LR_DECAY}, an optimizer that returns a new config; its predictions are right "
                f"on the validation images only after epoch {BEST_STEP // steps_per_epoch} and on the "
                f"training images only after epoch {LAST_STEP // steps_per_epoch}; trained twice with "
                f"the same seed and different np.random states")
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
    raise GradingFailure("\n".join(lines), _matching(got, differing, MUTANTS))


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
