"""Realistic mistakes in assignment 01 (softmax classifier)."""
import numpy as np

from grader_tests.checking import Mutant


def softmax_without_max_shift(z):
    exp = np.exp(z)
    return exp / np.sum(exp, axis=1, keepdims=True)


def softmax_max_over_columns(z):
    exp = np.exp(z - np.max(z, axis=0, keepdims=True))
    return exp / np.sum(exp, axis=1, keepdims=True)


def softmax_normalised_over_columns(z):
    exp = np.exp(z - np.max(z, axis=1, keepdims=True))
    return exp / np.sum(exp, axis=0, keepdims=True)


def softmax_normalised_over_batch(z):
    exp = np.exp(z - np.max(z, axis=1, keepdims=True))
    return exp / np.sum(exp)


def softmax_without_keepdims(z):
    exp = np.exp(z - np.max(z, axis=1))
    return exp / np.sum(exp, axis=1)


def softmax_in_place(z):
    z -= np.max(z, axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= np.sum(z, axis=1, keepdims=True)
    return z


def softmax_returns_log_probabilities(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


MUTANTS = [
    Mutant("softmax", "no max subtraction",
           "exp overflows to inf for scores above ~710, and inf/inf is nan: subtract each row's "
           "maximum before exponentiating.", softmax_without_max_shift),
    Mutant("softmax", "maximum taken over the wrong axis (axis=0)",
           "Subtract the maximum of each row (axis=1, keepdims=True), not of each column.",
           softmax_max_over_columns),
    Mutant("softmax", "normalised over the wrong axis (axis=0)",
           "Each row (one example) must sum to 1: divide by the sum over axis=1.",
           softmax_normalised_over_columns),
    Mutant("softmax", "normalised over the whole batch",
           "Divide by each row's own sum (axis=1, keepdims=True), not by the sum of all entries.",
           softmax_normalised_over_batch),
    Mutant("softmax", "keepdims missing",
           "np.max(z, axis=1) has shape (N,), which broadcasts along columns; "
           "use keepdims=True to get shape (N, 1).", softmax_without_keepdims),
    Mutant("softmax", "input modified in place",
           "`z -= ...` changes the caller's array; write `shifted = z - ...` instead.",
           softmax_in_place),
    Mutant("softmax", "returns log-probabilities",
           "That is log-softmax; exponentiate to return probabilities.",
           softmax_returns_log_probabilities),
]


# softmax_cross_entropy(scores, y) -> (loss, dscores) ----------------------------------------------

def _log_softmax(scores):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _loss_and_dscores(log_probs, y, divide_loss=True, divide_gradient=True):
    n = log_probs.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / (n if divide_loss else 1)
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / (n if divide_gradient else 1)


def ce_loss_summed(scores, y):
    return _loss_and_dscores(_log_softmax(scores), y, divide_loss=False)


def ce_dscores_not_divided(scores, y):
    return _loss_and_dscores(_log_softmax(scores), y, divide_gradient=False)


def ce_nothing_divided(scores, y):
    return _loss_and_dscores(_log_softmax(scores), y, divide_loss=False, divide_gradient=False)


def ce_mean_over_all_entries(scores, y):
    log_probs = _log_softmax(scores)
    onehot = np.zeros(log_probs.shape)
    onehot[np.arange(len(y)), y] = 1
    loss = -np.mean(onehot * log_probs)
    return loss, (np.exp(log_probs) - onehot) / len(y)


def ce_without_max_shift(scores, y):
    exp = np.exp(scores)
    p = exp / np.sum(exp, axis=1, keepdims=True)
    n = scores.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def ce_without_minus_one(scores, y):
    loss, _ = _loss_and_dscores(_log_softmax(scores), y)
    return loss, np.exp(_log_softmax(scores)) / scores.shape[0]


def ce_log_of_softmax(scores, y):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    p = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    n = scores.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def ce_labels_indexed_wrongly(scores, y):
    log_probs = _log_softmax(scores)
    n = scores.shape[0]
    loss = -np.mean(log_probs[:, y])
    dscores = np.exp(log_probs)
    dscores[:, y] -= 1
    return loss, dscores / n


def ce_scores_modified_in_place(scores, y):
    scores -= np.max(scores, axis=1, keepdims=True)
    return _loss_and_dscores(_log_softmax(scores), y)


# linear_classifier_loss(W, b, X, y, reg) -> (loss, dW, db) -----------------------------------------

def _linear_parts(W, b, X, y):
    """loss without regularisation, and dscores = (p - onehot) / N."""
    return _loss_and_dscores(_log_softmax(X @ W + b), y)


def linear_reg_without_half(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + reg * np.sum(W * W), X.T @ dscores + reg * W, dscores.sum(axis=0)


def linear_reg_gradient_halved(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), X.T @ dscores + 0.5 * reg * W, dscores.sum(axis=0)


def linear_bias_regularised(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    loss += 0.5 * reg * (np.sum(W * W) + np.sum(b * b))
    return loss, X.T @ dscores + reg * W, dscores.sum(axis=0) + reg * b


def linear_dW_not_divided_by_n(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return (loss + 0.5 * reg * np.sum(W * W), X.T @ (dscores * X.shape[0]) + reg * W,
            dscores.sum(axis=0))


def linear_db_not_summed(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), X.T @ dscores + reg * W, dscores


def linear_db_summed_over_classes(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), X.T @ dscores + reg * W, dscores.sum(axis=1)


def linear_dW_transposed(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), dscores.T @ X + reg * W.T, dscores.sum(axis=0)


def linear_reg_missing_from_gradient(W, b, X, y, reg):
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), X.T @ dscores, dscores.sum(axis=0)


# train_linear_classifier(W, b, data, ...) -> dict ---------------------------------------------------

def reference_linear_loss(W, b, X, y, reg):
    """A correct linear_classifier_loss: what the training-loop mutants call.

    Inputs: W (D, C), b (C,), X (N, D), y (N,) class indices, reg the L2 strength.
    Returns (loss, dW, db): mean softmax cross-entropy + 0.5 * reg * sum(W**2), and its gradients.
    """
    loss, dscores = _linear_parts(W, b, X, y)
    return loss + 0.5 * reg * np.sum(W * W), X.T @ dscores + reg * W, dscores.sum(axis=0)


def _accuracy(W, b, X, y):
    return float(np.mean(np.argmax(X @ W + b, axis=1) == y))


def _train(W, b, data, learning_rate=1e-2, momentum=0.9, lr_decay=0.95, reg=1e-4, batch_size=200,
           num_epochs=20, patience=3, seed=0, verbose=True, *, mistake=None):
    """A correct training loop, or the one that makes `mistake` (one of the names below)."""
    X_train, y_train = data["X_train"], data["y_train"]
    rng = np.random.default_rng(seed)
    if mistake != "initial W modified":
        W, b = W.copy(), b.copy()
    in_place = mistake in ("initial W modified", "best not copied")
    v_W, v_b = np.zeros_like(W), np.zeros_like(b)
    best_W, best_b = W.copy(), b.copy()
    best_val_acc, bad_epochs, epochs_run = -1.0, 0, 0
    losses, train_accs, val_accs = [], [], []
    for _ in range(num_epochs):
        order = rng.permutation(X_train.shape[0])
        epoch_losses = []
        for start in range(0, X_train.shape[0], batch_size):
            batch = order[start:start + batch_size]
            loss, dW, db = reference_linear_loss(W, b, X_train[batch], y_train[batch], reg)
            epoch_losses.append(float(loss))
            if mistake == "momentum sign":
                v_W, v_b = momentum * v_W + learning_rate * dW, momentum * v_b + learning_rate * db
            elif mistake == "momentum ignored":
                v_W, v_b = -learning_rate * dW, -learning_rate * db
            else:
                v_W, v_b = momentum * v_W - learning_rate * dW, momentum * v_b - learning_rate * db
            if in_place:
                W += v_W
                b += v_b
            else:
                W, b = W + v_W, b + v_b
            if mistake == "decay every minibatch":
                learning_rate *= lr_decay
        losses += [float(np.mean(epoch_losses))] if mistake == "loss per epoch" else epoch_losses
        if mistake not in ("no decay", "decay every minibatch"):
            learning_rate *= lr_decay
        epochs_run += 1
        train_accs.append(_accuracy(W, b, X_train, y_train))
        val_accs.append(_accuracy(W, b, data["X_val"], data["y_val"]))
        if val_accs[-1] > best_val_acc:
            best_val_acc, bad_epochs = val_accs[-1], 0
            best_W, best_b = (W, b) if mistake == "best not copied" else (W.copy(), b.copy())
        else:
            bad_epochs += 1
            limit_reached = bad_epochs > patience if mistake == "patience off by one" else bad_epochs >= patience
            if limit_reached and mistake != "no early stopping":
                break
    if mistake == "last returned":
        best_W, best_b = W, b
    return {"W": best_W, "b": best_b, "loss_history": losses, "train_acc_history": train_accs,
            "val_acc_history": val_accs, "epochs_run": epochs_run}


def train_correctly(W, b, data, **options):
    """The mutants' common base, itself correct (the kit's tests check that)."""
    return _train(W, b, data, **options)


def train_momentum_sign_error(W, b, data, **options):
    return _train(W, b, data, mistake="momentum sign", **options)


def train_momentum_ignored(W, b, data, **options):
    return _train(W, b, data, mistake="momentum ignored", **options)


def train_lr_never_decayed(W, b, data, **options):
    return _train(W, b, data, mistake="no decay", **options)


def train_lr_decayed_every_minibatch(W, b, data, **options):
    return _train(W, b, data, mistake="decay every minibatch", **options)


def train_no_early_stopping(W, b, data, **options):
    return _train(W, b, data, mistake="no early stopping", **options)


def train_patience_off_by_one(W, b, data, **options):
    return _train(W, b, data, mistake="patience off by one", **options)


def train_last_parameters_returned(W, b, data, **options):
    return _train(W, b, data, mistake="last returned", **options)


def train_best_parameters_not_copied(W, b, data, **options):
    return _train(W, b, data, mistake="best not copied", **options)


def train_initial_W_modified(W, b, data, **options):
    return _train(W, b, data, mistake="initial W modified", **options)


def train_loss_recorded_per_epoch(W, b, data, **options):
    return _train(W, b, data, mistake="loss per epoch", **options)


MUTANTS += [
    Mutant("softmax_cross_entropy", "loss summed over the batch instead of averaged (sum instead of mean)",
           "The loss is the mean over the N examples: divide the sum of -log p[i, y[i]] by N.",
           ce_loss_summed),
    Mutant("softmax_cross_entropy", "dscores not divided by N",
           "The loss is a mean over the batch, so each example's gradient p - onehot carries a factor 1/N.",
           ce_dscores_not_divided),
    Mutant("softmax_cross_entropy", "neither the loss nor dscores divided by N",
           "Average over the batch: divide the summed loss, and p - onehot, by N.",
           ce_nothing_divided),
    Mutant("softmax_cross_entropy", "loss averaged over all N x C entries",
           "np.mean(onehot * log_p) divides by N * C; sum over the classes, then average over the N examples.",
           ce_mean_over_all_entries),
    Mutant("softmax_cross_entropy", "no max subtraction",
           "exp overflows to inf for scores above ~710: subtract each row's maximum first.",
           ce_without_max_shift),
    Mutant("softmax_cross_entropy", "missing -1 at the correct class in dscores",
           "dscores = (p - onehot(y)) / N: subtract 1 at [arange(N), y].", ce_without_minus_one),
    Mutant("softmax_cross_entropy", "log of the softmax computed naively",
           "p underflows to 0 for very unlikely classes and log(0) = -inf: compute log p directly as "
           "shifted - log(sum(exp(shifted))).", ce_log_of_softmax),
    Mutant("softmax_cross_entropy", "labels indexed wrongly (scores[:, y] instead of scores[arange(N), y])",
           "scores[:, y] picks N columns for every row (an N x N block); use [np.arange(N), y] to pick "
           "one entry per row.", ce_labels_indexed_wrongly),
    Mutant("softmax_cross_entropy", "scores modified in place",
           "`scores -= ...` changes the caller's array; write `shifted = scores - ...` instead.",
           ce_scores_modified_in_place),
    Mutant("linear_classifier_loss", "regularisation term without the factor 0.5",
           "The loss adds 0.5 * reg * sum(W**2) (whose gradient is reg * W).", linear_reg_without_half),
    Mutant("linear_classifier_loss", "regularisation gradient 0.5 * reg * W",
           "The gradient of 0.5 * reg * sum(W**2) is reg * W.", linear_reg_gradient_halved),
    Mutant("linear_classifier_loss", "bias regularised",
           "Only W is regularised: leave b out of the 0.5 * reg * sum(W**2) term.", linear_bias_regularised),
    Mutant("linear_classifier_loss", "dW not divided by N",
           "dW = X.T @ dscores with dscores = (p - onehot) / N: the mean over the batch carries 1/N.",
           linear_dW_not_divided_by_n),
    Mutant("linear_classifier_loss", "db not summed over the batch",
           "b is added to every example's scores, so db sums dscores over the examples: "
           "dscores.sum(axis=0), shape (C,).", linear_db_not_summed),
    Mutant("linear_classifier_loss", "db summed over the wrong axis (classes)",
           "Sum dscores over the examples (axis=0) to get shape (C,), not over the classes (axis=1).",
           linear_db_summed_over_classes),
    Mutant("linear_classifier_loss", "dW transposed (dscores.T @ X)",
           "dW must have W's shape (D, C): dW = X.T @ dscores.", linear_dW_transposed),
    Mutant("linear_classifier_loss", "regularisation missing from the gradient",
           "The loss has 0.5 * reg * sum(W**2), so add reg * W to dW.", linear_reg_missing_from_gradient),
    Mutant("train_linear_classifier", "momentum sign error (v = momentum * v + learning_rate * dW)",
           "The velocity steps against the gradient: v = momentum * v - learning_rate * dW; W = W + v.",
           train_momentum_sign_error),
    Mutant("train_linear_classifier", "momentum ignored",
           "Keep a velocity across minibatches: v = momentum * v - learning_rate * dW, starting at zero.",
           train_momentum_ignored),
    Mutant("train_linear_classifier", "learning rate never decayed",
           "Multiply learning_rate by lr_decay once after every epoch.", train_lr_never_decayed),
    Mutant("train_linear_classifier", "learning rate decayed after every minibatch",
           "Decay once per epoch (after the minibatch loop), not once per minibatch.",
           train_lr_decayed_every_minibatch),
    Mutant("train_linear_classifier", "no early stopping",
           "Count the epochs in a row without a better validation accuracy and stop when the count "
           "reaches patience.", train_no_early_stopping),
    Mutant("train_linear_classifier", "patience off by one",
           "Stop as soon as the count of epochs without improvement reaches patience (>=, not >).",
           train_patience_off_by_one),
    Mutant("train_linear_classifier", "last parameters returned instead of the best",
           "Return the W and b of the epoch with the best validation accuracy, not the final ones.",
           train_last_parameters_returned),
    Mutant("train_linear_classifier", "best parameters not copied",
           "`best_W = W` keeps a reference that the in-place updates `W += v` keep changing; "
           "store best_W = W.copy().", train_best_parameters_not_copied),
    Mutant("train_linear_classifier", "initial W modified in place",
           "`W += v` on the W passed in changes the caller's array; start from W = W.copy().",
           train_initial_W_modified),
    Mutant("train_linear_classifier", "loss recorded once per epoch instead of once per minibatch",
           "Append every minibatch's loss to loss_history, inside the minibatch loop.",
           train_loss_recorded_per_epoch),
]

WORKING = {"linear_classifier_loss": reference_linear_loss, "train_linear_classifier": train_correctly}
"""A correct notebook in the mutants' conventions: the training loop's mutants change train_correctly
in one place and are graded with this loss (softmax's and the losses' mutants stand alone)."""
