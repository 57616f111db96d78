"""Speed of the reference CNN layers and training steps against PyTorch CPU, and against loops.

Times, on the same shapes in float32 (batch 64):
- the reference layers of 04 (`conv_forward_fast`, `conv_backward_fast`, max and average pooling)
  and PyTorch's, on the convolutions of the two networks below;
- one training step (forward and backward of the loss, every gradient) of 04's ThreeLayerConvNet
  as its notebook trains it, and of 05's reference CifarNet, against the same networks in PyTorch.
  CifarNet splits its batch into one part per BLAS thread, computed at the same time
  (`assignments.parallel.split_batch`); a row shows its step without the split, all images in one
  call as 04's network computes them. Then the steps against PyTorch also computing the images'
  gradient ("with dX"), which the NumPy step computes because conv_backward_fast always returns dx;
- the naive loops (`conv_forward_naive` / `conv_backward_naive`, and the 04 network built on them)
  against the reference, on 4 images, since loops are slow.

PyTorch uses as many threads as NumPy's BLAS. NumPy and PyTorch take turns in short blocks and the
shortest call of each counts, so that a burst of load on a shared machine slows both sides; the
ratios are the result, absolute times are for orientation. Measure on a quiet machine: with as many
threads as cores, one other busy process stalls a multi-threaded call for a scheduler time slice
(about 12 ms here); `--threads 1` gives figures that such a process disturbs less. As in the notebooks,
`assignments.allocator.keep_freed_memory()` is called first (it applies to both libraries, which
share the process); `--default-allocator` leaves glibc's settings alone. PyTorch is
needed only here (`pip install -e ".[bench]"`); without it the NumPy and loop figures are printed
and the comparison is skipped with a message.

Every row is also recorded in benchmarks/results.json (`results.record`).

    python benchmarks/bench_layers.py [--repeats 20] [--threads N] [--default-allocator]
"""
from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from assignments import paths
from assignments.allocator import keep_freed_memory
from assignments.notebooks import load_definitions
from assignments.parallel import blas_threads
from assignments.previous import cnn
from results import record

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

BATCH = 64
CONVS = [  # label, x shape, w shape, pad (stride 1): the convolutions of the two networks
    ("conv 04: 1->32 5x5 on 28x28", (BATCH, 1, 28, 28), (32, 1, 5, 5), 2),
    ("conv 05 first: 3->32 3x3 on 32x32", (BATCH, 3, 32, 32), (32, 3, 3, 3), 1),
    ("conv 05 second: 32->64 3x3 on 16x16", (BATCH, 32, 16, 16), (64, 32, 3, 3), 1),
]
POOL_SHAPE = (BATCH, 32, 28, 28)
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}
MNIST_NET = {"num_filters": 32, "filter_size": 5, "hidden_dim": 100, "weight_scale": 1e-2, "reg": 1e-4}
CIFAR_NET = {"filters": [32, 64], "hidden_dim": 256, "reg": 1e-4}
LOOP_BATCH = 4


def race(functions: dict[str, Callable[[], object]], repeats: int, block: int = 5) -> dict[str, float]:
    """The shortest time in seconds of each function over `repeats` timed calls.

    The functions take turns in blocks of `block` calls, each block after one untimed call: the
    other library's threads (OpenBLAS and OpenMP both spin a while after their work) have then
    gone quiet, and a burst of load on the machine hits every function alike.
    """
    best = dict.fromkeys(functions, np.inf)
    for _ in range(max(1, -(-repeats // block))):
        for name, function in functions.items():
            function()
            for _ in range(min(block, repeats)):
                start = time.perf_counter()
                function()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def random(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> np.ndarray:
    """Standard normal float32 values times `scale`."""
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def like(template: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` in the memory layout of `template` (a layer's dout is laid out like its output)."""
    ordered = np.empty_like(template)
    ordered[...] = values
    return ordered


def torch_grad(out: "torch.Tensor", inputs: tuple, dout: np.ndarray) -> Callable[[], object]:
    """A backward pass of PyTorch from `out` to `inputs`, repeatable."""
    grad = torch.from_numpy(np.ascontiguousarray(dout))
    return lambda: torch.autograd.grad(out, inputs, grad, retain_graph=True)


def conv_rows(repeats: int) -> list[tuple[str, dict[str, float]]]:
    """(label, {"numpy": s, "torch": s}) for the forward and the backward of each convolution."""
    rows = []
    for label, x_shape, w_shape, pad in CONVS:
        x, w, b = random(x_shape, 0), random(w_shape, 1, 0.1), random(w_shape[:1], 2)
        conv_param = {"stride": 1, "pad": pad}
        out, cache = cnn.conv_forward_fast(x, w, b, conv_param)
        dout = like(out, random(out.shape, 3))
        forward = {"numpy": lambda: cnn.conv_forward_fast(x, w, b, conv_param)}
        backward = {"numpy": lambda: cnn.conv_backward_fast(dout, cache)}
        if torch is not None:
            xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
            forward["torch"] = lambda: F.conv2d(xt, wt, bt, padding=pad)
            backward["torch"] = torch_grad(F.conv2d(xt, wt, bt, padding=pad), (xt, wt, bt), dout)
        rows += [(f"{label}, forward", race(forward, repeats)),
                 (f"{label}, backward", race(backward, repeats))]
    return rows


def pool_rows(repeats: int) -> list[tuple[str, dict[str, float]]]:
    """(label, {"numpy": s, "torch": s}) for forward and backward of 2x2 max and average pooling."""
    x = random(POOL_SHAPE, 4)
    pools = [("max pool", cnn.max_pool_forward_naive, cnn.max_pool_backward_naive, "max_pool2d"),
             ("avg pool", cnn.avg_pool_forward, cnn.avg_pool_backward, "avg_pool2d")]
    rows = []
    for label, forward_fn, backward_fn, torch_name in pools:
        out, cache = forward_fn(x, POOL_PARAM)
        dout = like(out, random(out.shape, 5))
        forward = {"numpy": lambda: forward_fn(x, POOL_PARAM)}
        backward = {"numpy": lambda: backward_fn(dout, cache)}
        if torch is not None:
            xt, torch_fn = torch.from_numpy(x).requires_grad_(), getattr(F, torch_name)
            forward["torch"] = lambda: torch_fn(xt, 2)
            backward["torch"] = torch_grad(torch_fn(xt, 2), (xt,), dout)
        shape = "x".join(map(str, POOL_SHAPE))
        rows += [(f"{label} 2x2 on {shape}, forward", race(forward, repeats)),
                 (f"{label} 2x2 on {shape}, backward", race(backward, repeats))]
    return rows


def torch_mnist_net() -> "torch.nn.Module":
    """04's ThreeLayerConvNet (MNIST_NET) in PyTorch."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 14 * 14, 100), nn.ReLU(), nn.Linear(100, 10))


def torch_cifar_net() -> "torch.nn.Module":
    """05's reference CifarNet (CIFAR_NET) in PyTorch."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10))


def torch_step(model: "torch.nn.Module", X: np.ndarray, y: np.ndarray,
               image_gradient: bool = False) -> Callable[[], None]:
    """Forward and backward of the softmax loss of `model`, every parameter's gradient, and with
    `image_gradient` also the gradient of the images (which conv_backward_fast always returns)."""
    Xt, yt = torch.from_numpy(X).requires_grad_(image_gradient), torch.from_numpy(y)

    def step():
        model.zero_grad(set_to_none=True)
        Xt.grad = None
        F.cross_entropy(model(Xt), yt).backward()
    return step


def step_rows(repeats: int) -> list[tuple[str, dict[str, float]]]:
    """(label, {"numpy": s, "torch": s}) for one training step of each network, then 05's step
    without its batch split, then the steps against PyTorch computing the images' gradient too, as
    the NumPy layers do."""
    cifar10 = load_definitions(paths.SOURCE_DIR / "05_cifar10" / "05_cifar10.ipynb")
    y = np.random.default_rng(6).integers(0, 10, BATCH)
    np.random.seed(0)
    networks = [("training step, 04 ThreeLayerConvNet (MNIST)", cnn.ThreeLayerConvNet(**MNIST_NET),
                 (1, 28, 28), torch_mnist_net),
                ("training step, 05 CifarNet (CIFAR-10)", cifar10.CifarNet(**CIFAR_NET),
                 (3, 32, 32), torch_cifar_net)]
    rows, unsplit, like_for_like = [], [], []
    for label, model, image_shape, torch_model in networks:
        X = random((BATCH, *image_shape), 7)
        functions = {"numpy": lambda: model.loss(X, y)}
        if hasattr(model, "loss_in_one_thread"):  # 05's CifarNet splits its batch (split_batch)
            functions["numpy, not split"] = lambda: model.loss_in_one_thread(X, y)
        if torch is not None:
            same_model = torch_model()
            functions["torch"] = torch_step(same_model, X, y)
            functions["torch with dX"] = torch_step(same_model, X, y, image_gradient=True)
        times = race(functions, repeats)
        rows.append((label, times))
        name = label.removeprefix("training step, ")
        if "numpy, not split" in times:
            unsplit.append((f"{name}, batch not split across threads",
                            {**times, "numpy": times["numpy, not split"]}))
        if torch is not None:
            like_for_like.append((f"{name}, PyTorch with dX",
                                  {"numpy": times["numpy"], "torch": times["torch with dX"]}))
    return rows + unsplit + like_for_like


def loop_rows(repeats: int) -> list[tuple[str, dict[str, float]]]:
    """(label, {"loops": s, "numpy": s}): the naive loops (timed once) against the reference, on
    LOOP_BATCH images."""
    _, x_shape, w_shape, pad = CONVS[0]
    x, w, b = random((LOOP_BATCH, *x_shape[1:]), 8), random(w_shape, 9, 0.1), random(w_shape[:1], 10)
    conv_param = {"stride": 1, "pad": pad}

    def conv_pair(forward, backward):
        def both():
            out, cache = forward(x, w, b, conv_param)
            backward(np.ones_like(out), cache)
        return both

    naive_net, fast_net = (cnn.ThreeLayerConvNet(**MNIST_NET) for _ in range(2))
    X, y = random((LOOP_BATCH, 1, 28, 28), 11), np.arange(LOOP_BATCH)
    rows = [(f"conv 04 forward + backward, {LOOP_BATCH} images",
             {**race({"loops": conv_pair(cnn.conv_forward_naive, cnn.conv_backward_naive)}, 1),
              **race({"numpy": conv_pair(cnn.conv_forward_fast, cnn.conv_backward_fast)}, repeats)})]
    with naive_convolution():
        naive = race({"loops": lambda: naive_net.loss(X, y)}, 1)
    rows.append((f"training step, 04 ThreeLayerConvNet, {LOOP_BATCH} images",
                 {**naive, **race({"numpy": lambda: fast_net.loss(X, y)}, repeats)}))
    return rows


@contextlib.contextmanager
def naive_convolution():
    """Within `with naive_convolution():`, 04's networks use conv_forward/backward_naive."""
    fast = cnn.conv_forward_fast, cnn.conv_backward_fast
    cnn.conv_forward_fast, cnn.conv_backward_fast = cnn.conv_forward_naive, cnn.conv_backward_naive
    try:
        yield
    finally:
        cnn.conv_forward_fast, cnn.conv_backward_fast = fast


def print_table(title: str, rows: list[tuple[str, dict[str, float]]], first: str, second: str) -> None:
    """Milliseconds of `first` and `second` per row, and their ratio (first / second)."""
    print(f"\n{title:58s} {first:>10s} {second:>10s} {first + '/' + second:>14s}")
    for label, times in rows:
        if second in times:
            print(f"{label:58s} {times[first] * 1e3:8.2f}ms {times[second] * 1e3:8.2f}ms "
                  f"{times[first] / times[second]:13.2f}x")
        else:
            print(f"{label:58s} {times[first] * 1e3:8.2f}ms {'-':>10s} {'-':>14s}")


def record_table(rows: list[tuple[str, dict[str, float]]], first: str, second: str, note: str) -> None:
    """Record each row's milliseconds of `first` and `second`, and their ratio, in results.json."""
    for label, times in rows:
        figures = {f"{name} ms": round(times[name] * 1e3, 2) for name in (first, second) if name in times}
        if second in times:
            figures[f"ratio {first}/{second}"] = round(times[first] / times[second], 2)
        record("bench_layers", label, figures, note=note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed calls of each function")
    parser.add_argument("--threads", type=int, help="threads of NumPy's BLAS and PyTorch "
                                                     "(default: NumPy's BLAS threads)")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's malloc settings alone (the notebooks keep freed memory)")
    args = parser.parse_args()
    if not args.default_allocator:
        keep_freed_memory()
    threads = args.threads or blas_threads()
    with threadpool_limits(threads, user_api="blas"):
        if torch is None:
            print("PyTorch is not installed (pip install -e \".[bench]\"): the PyTorch comparison is skipped.")
        else:
            torch.set_num_threads(threads)
            print(f"PyTorch {torch.__version__}, {threads} threads for NumPy's BLAS and PyTorch")
        print("glibc's default allocator" if args.default_allocator else "freed memory kept "
              "(assignments.allocator.keep_freed_memory)")
        note = (f"{threads} threads, " + ("glibc's default allocator" if args.default_allocator
                                          else "freed memory kept") + f", best of {args.repeats}")
        layers = conv_rows(args.repeats) + pool_rows(args.repeats)
        steps = step_rows(args.repeats)
        loops = loop_rows(args.repeats)
        print_table("layer (float32, batch 64)", layers, "numpy", "torch")
        print_table("training step (forward + backward, float32, batch 64)", steps, "numpy", "torch")
        print_table("naive loops against the reference", loops, "loops", "numpy")
        record_table(layers + steps, "numpy", "torch", note)
        record_table(loops, "loops", "numpy", note)
        hours = loops[-1][1]["loops"] / LOOP_BATCH * 60_000 / 3600
        record("bench_layers", "naive 04 network, full MNIST epoch (estimated)", {"hours": round(hours, 1)},
               note=f"from {LOOP_BATCH} images")
        print(f"\nnaive 04 network: {hours:.1f} h per 60,000-image epoch (estimated from {LOOP_BATCH} images)")


if __name__ == "__main__":
    main()
