"""Seconds per full-size epoch of the 04 and 05 reference CNNs, and the peak memory of training.

Trains a reference network as its notebook does (Adam, batch 64; the reference Solver, which also
measures train and validation accuracy after each epoch) on synthetic data of the full data set's
size in float32 (the kit's machines cannot download the data; speed does not depend on the pixels):
- 04: ThreeLayerConvNet (32 filters of 5x5, 100 hidden units) on 60,000 training and 5,000
  validation images of 1x28x28 (full MNIST);
- 05: CifarNet (3x3 convolutions with 32 and 64 filters, 256 hidden units) on 45,000 training and
  5,000 validation images of 3x32x32 (CIFAR-10 as the notebook splits it).
The notebooks' setup cell calls `assignments.allocator.keep_freed_memory()`, and so does the
training here; `--default-allocator` measures glibc's default settings instead. The training runs
in a child process, so that its peak resident memory (ru_maxrss) is its own:
printed are the memory after the data is built and the peak of training above it, the working
memory, which stays batch-sized (an im2col matrix of all of MNIST would take 4.7 GB).

The figures are recorded in benchmarks/results.json (`results.record`).

    python benchmarks/bench_training.py [--network 04|05] [--train N] [--epochs 1] [--default-allocator]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from results import record

NETWORKS = {  # network: (image shape, training images, learning rate) as its notebook trains it
    "04": ((1, 28, 28), 60_000, 2e-3),
    "05": ((3, 32, 32), 45_000, 1e-3),
}
VALIDATION = 5_000


def build(network: str):
    """The reference network of assignment `network`, configured as its notebook trains it."""
    from assignments import paths
    from assignments.notebooks import load_definitions
    from assignments.previous import cnn

    np.random.seed(0)
    if network == "04":
        return cnn.ThreeLayerConvNet(num_filters=32, filter_size=5, hidden_dim=100, weight_scale=1e-2,
                                     reg=1e-4)
    cifar10 = load_definitions(paths.SOURCE_DIR / "05_cifar10" / "05_cifar10.ipynb")
    return cifar10.build_model(filters=[32, 64], hidden_dim=256, reg=1e-4)


def synthetic_data(image_shape: tuple[int, ...], num_train: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 images (N, *image_shape) and labels in 0..9, in the layout of get_*_data."""
    rng = np.random.default_rng(seed)
    data = {}
    for split, n in (("train", num_train), ("val", VALIDATION)):
        data[f"X_{split}"] = rng.standard_normal((n, *image_shape), dtype=np.float32)
        data[f"y_{split}"] = rng.integers(0, 10, n)
    return data


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(network: str, num_train: int, epochs: int, keep_memory: bool) -> dict[str, float]:
    """Train a reference network on synthetic data; seconds per epoch and peak memory figures (MB)."""
    from assignments.allocator import keep_freed_memory
    from assignments.previous import fully_connected

    if keep_memory:
        keep_freed_memory()
    image_shape, _, learning_rate = NETWORKS[network]
    data = synthetic_data(image_shape, num_train)
    data_mb = sum(array.nbytes for array in data.values()) / 2**20
    model = build(network)
    solver = fully_connected.Solver(model, data, update_rule=fully_connected.adam,
                                    optim_config={"learning_rate": learning_rate}, lr_decay=0.9, batch_size=64,
                                    num_epochs=epochs, num_train_samples=1000, seed=0, verbose=False)
    before = peak_rss_mb()
    start = time.perf_counter()
    solver.train()
    seconds = (time.perf_counter() - start) / epochs
    return {"seconds_per_epoch": seconds, "data_mb": data_mb, "rss_before_mb": before,
            "peak_rss_mb": peak_rss_mb(), "iterations_per_epoch": num_train // 64}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), default="04")
    parser.add_argument("--train", type=int, help="training images (default: the full data set's)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's malloc settings alone (the notebooks keep freed memory)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    num_train = args.train or NETWORKS[args.network][1]
    if args.child:
        print(json.dumps(train(args.network, num_train, args.epochs, not args.default_allocator)))
        return
    run = subprocess.run([sys.executable, __file__, "--child", "--network", args.network, "--train",
                          str(num_train), "--epochs", str(args.epochs)]
                         + ["--default-allocator"] * args.default_allocator, capture_output=True, text=True,
                         check=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    name = {"04": "04 ThreeLayerConvNet", "05": "05 CifarNet"}[args.network]
    allocator = "glibc's default allocator" if args.default_allocator else "freed memory kept"
    print(f"{name}, {num_train:,} training images ({result['iterations_per_epoch']} steps of 64) + "
          f"{VALIDATION:,} validation images, float32, {allocator}:")
    print(f"  {result['seconds_per_epoch']:.1f} s per epoch")
    print(f"  memory: {result['rss_before_mb']:.0f} MB before training (data {result['data_mb']:.0f} MB, "
          f"Python and libraries the rest); peak {result['peak_rss_mb']:.0f} MB, "
          f"{result['peak_rss_mb'] - result['rss_before_mb']:.0f} MB above it while training")
    record("bench_training", f"{name}, {num_train:,} training images, {allocator}",
           {"seconds per epoch": round(result["seconds_per_epoch"], 1),
            "memory before training MB": round(result["rss_before_mb"]),
            "working memory MB": round(result["peak_rss_mb"] - result["rss_before_mb"])},
           note=f"synthetic data, {args.epochs} epoch(s)")


if __name__ == "__main__":
    main()
