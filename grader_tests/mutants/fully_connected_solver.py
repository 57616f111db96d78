"""Realistic mistakes in assignment 02's Solver (the parts students write: _step and train).

`WorkingSolver` is a complete Solver that the mutants each break in one place.
"""
import numpy as np

from grader_tests.checking import Mutant


class WorkingSolver:
    def __init__(self, model, data, update_rule=None, optim_config=None, lr_decay=1.0, batch_size=100,
                 num_epochs=10, num_train_samples=1000, num_val_samples=None, seed=0, verbose=True):
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = update_rule
        self.lr_decay, self.batch_size, self.num_epochs = lr_decay, batch_size, num_epochs
        self.num_train_samples, self.num_val_samples = num_train_samples, num_val_samples
        self.rng = np.random.default_rng(seed)
        self.best_val_acc, self.best_params = 0.0, {}
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        self.optim_configs = {name: dict(optim_config or {}) for name in model.params}

    def _batch(self):
        return self.rng.choice(self.X_train.shape[0], self.batch_size)

    def _step(self):
        batch = self._batch()
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            self.model.params[name], self.optim_configs[name] = self.update_rule(
                w, grads[name], self.optim_configs[name])

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        scores = self.model.loss(X)
        return float(np.mean(np.argmax(scores, axis=1) == y))

    def _decay(self):
        for config in self.optim_configs.values():
            config["learning_rate"] *= self.lr_decay

    def _keep_best(self, val_acc):
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}

    def _epoch(self, iterations):
        for _ in range(iterations):
            self._step()

    def train(self):
        iterations = max(self.X_train.shape[0] // self.batch_size, 1)
        for _ in range(self.num_epochs):
            self._epoch(iterations)
            self._decay()
            self.train_acc_history.append(self.check_accuracy(self.X_train, self.y_train))
            val_acc = self.check_accuracy(self.X_val, self.y_val)
            self.val_acc_history.append(val_acc)
            self._keep_best(val_acc)
        self.model.params = self.best_params


class NoDecay(WorkingSolver):
    def _decay(self):
        pass


class DecayEveryIteration(WorkingSolver):
    def _step(self):
        super()._step()
        super()._decay()

    def _decay(self):
        pass


class BestParamsNotCopied(WorkingSolver):
    def _keep_best(self, val_acc):
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = dict(self.model.params)


class LastParamsKept(WorkingSolver):
    def train(self):
        super().train()
        self.model.params = {k: v for k, v in self.model.params.items()}
        self.best_params = self.model.params

    def _keep_best(self, val_acc):
        self.best_val_acc = max(self.best_val_acc, val_acc)
        self.best_params = self.model.params


class LabelsFromAnotherBatch(WorkingSolver):
    def _step(self):
        images, labels = self._batch(), self._batch()
        loss, grads = self.model.loss(self.X_train[images], self.y_train[labels])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            self.model.params[name], self.optim_configs[name] = self.update_rule(
                w, grads[name], self.optim_configs[name])


class ConfigNotKept(WorkingSolver):
    def _step(self):
        batch = self._batch()
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            self.model.params[name], _ = self.update_rule(w, grads[name], dict(self.optim_configs[name]))


class ConfigDiscarded(WorkingSolver):
    """Passes its own config and ignores the returned one: right only for rules that update in place."""

    def _step(self):
        batch = self._batch()
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            self.model.params[name], _ = self.update_rule(w, grads[name], self.optim_configs[name])


class ValidationOnTrainingData(WorkingSolver):
    def train(self):
        X_val, y_val = self.X_val, self.y_val
        self.X_val, self.y_val = self.X_train, self.y_train
        super().train()
        self.X_val, self.y_val = X_val, y_val


class MinibatchesFromGlobalRandom(WorkingSolver):
    def _batch(self):
        return np.random.choice(self.X_train.shape[0], self.batch_size)


class LossPerEpoch(WorkingSolver):
    def _epoch(self, iterations):
        before = len(self.loss_history)
        super()._epoch(iterations)
        del self.loss_history[before:-1]


class OneIterationPerEpoch(WorkingSolver):
    def _epoch(self, iterations):
        self._step()


MUTANTS = [
    Mutant("Solver", "learning rate never decayed",
           "After each epoch multiply every config's learning_rate by lr_decay.", NoDecay),
    Mutant("Solver", "learning rate decayed every iteration",
           "Decay once per epoch, not after every step.", DecayEveryIteration),
    Mutant("Solver", "best parameters not copied",
           "Optimizers may update arrays in place: keep {k: v.copy() ...} of the best parameters.",
           BestParamsNotCopied),
    Mutant("Solver", "last parameters kept instead of the best",
           "Remember the parameters of the epoch with the best validation accuracy.", LastParamsKept),
    Mutant("Solver", "labels drawn separately from images",
           "Use one index array for both X_train[batch] and y_train[batch].", LabelsFromAnotherBatch),
    Mutant("Solver", "optimizer state not kept",
           "Store the config each update returns in self.optim_configs[name]; it carries the "
           "optimizer's state (velocity, moments) to the next step.", ConfigNotKept),
    Mutant("Solver", "returned optimizer config discarded",
           "An update rule may return a new config instead of changing the one it was given: keep "
           "the returned one, self.optim_configs[name] = config, or its state is lost.", ConfigDiscarded),
    Mutant("Solver", "validation accuracy measured on the training data",
           "Measure val_acc with check_accuracy(self.X_val, self.y_val, ...), and keep the best "
           "parameters by that.", ValidationOnTrainingData),
    Mutant("Solver", "minibatches not drawn from self.rng",
           "Draw the minibatch with self.rng (e.g. self.rng.choice(num_train, batch_size)), not "
           "np.random: the same seed must give the same training.", MinibatchesFromGlobalRandom),
    Mutant("Solver", "loss recorded once per epoch",
           "Append the loss of every iteration to loss_history.", LossPerEpoch),
    Mutant("Solver", "one iteration per epoch",
           "An epoch is iterations_per_epoch = num_train // batch_size steps.", OneIterationPerEpoch),
]

WORKING = {"Solver": WorkingSolver}
"""A correct notebook in the mutants' conventions: each mutant is a WorkingSolver broken in one place."""
