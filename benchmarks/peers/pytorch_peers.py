#!/usr/bin/python3
"""The workloads of issue 10 in PyTorch and scikit-learn, for comparison with latent.

Run with Debian's interpreter (/usr/bin/python3 with python3-torch, python3-sklearn and
python3-numpy: scripts/deps.sh --peers). MNIST comes from MNIST_DIR (default data/mnist), the
four original .gz IDX files, pixels / 255 in float32.

  pytorch_peers.py --workload W1 --threads 2 --variant torch1-blas2   one measurement
  pytorch_peers.py --all [--runs 3] [--quick]                         every measurement, each
                                                                      run in its own process

Protocol (the issue's): Adam 1e-3, the data reshuffled every epoch; samples/s = 4 x 60,000 /
the time of epochs 2-5, which covers the training steps including the batch gather and no
evaluation. --quick trains on 10,000 samples for 3 epochs (samples/s from epochs 2-3) and
shortens the inference and PCA measurements: a smoke run, not a figure to quote. A training
run projected to take more than --budget seconds stops after 20 (oversubscribed threads can
make one 100x slower) and reports the rate so far beside an over_budget_s row.

Workloads:
  W1   784-512-256-64-256-512-784, ReLU (the code too), sigmoid output, MSE, batch 128
  W2   784-64-784, sigmoid code and output, MSE, batch 64
  W3   the pytorch/examples VAE 784-400-(20, 20)-400-784, ReLU, Bernoulli decoder (BCE with
       logits summed, plus the KL term), batch 128; full mode also reports the test loss
       (negative ELBO per sample, one draw) after 10 epochs
  W4   a convolutional autoencoder (see ConvAutoencoder), MSE, batch 128
  W5   W1's encoder after one epoch of training: latency of one sample (median over many
       calls, under torch.no_grad()) and the time to encode 1,000 samples
  pca  scikit-learn's PCA on the training set (60,000 x 784 float32), k = 64: seconds to fit
       with svd_solver 'full' and 'randomized'; test MSE per pixel at k = 32

MSE is the squared error summed over pixels, mean over the batch (latent's MeanSquaredError).
Threads: variant 'plain' gives torch and OpenBLAS the same count; 'torch1-blas2' keeps torch's
own ops on one thread and lets OpenBLAS use two, the issue's best PyTorch setting on 2 cores.
Both are set through the environment before torch is imported.

Output: CSV rows framework,workload,threads,variant,metric,value (--all appends the run;
benchmarks/peers/table.py takes the medians, as compare.sh does).
"""

import argparse
import gzip
import os
import resource
import subprocess
import sys
import time

VARIANTS = {"plain", "torch1-blas2"}
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "pca")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=WORKLOADS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variant", default="plain",
                        help="plain or torch1-blas2 (W1-W5); full or randomized (pca)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (see above)")
    parser.add_argument("--seed", type=int, default=1,
                        help="torch.manual_seed: initialisation and data order (default 1)")
    parser.add_argument("--budget", type=float, default=600,
                        help="seconds a training run may take; one projected to take longer "
                             "stops after 20 and reports samples/s so far with an over_budget_s "
                             "row (default 600)")
    parser.add_argument("--all", action="store_true", help="run every measurement")
    parser.add_argument("--runs", type=int, default=3, help="--all: processes per measurement")
    parser.add_argument("--threads-list", default="1,2", help="--all: thread counts to measure")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="--all: which ones")
    args = parser.parse_args()
    if not args.all and args.workload is None:
        parser.error("give --workload (one measurement) or --all")
    return args


def set_thread_environment(threads, variant):
    """Before torch (and numpy) is imported: OpenMP is torch's pool, OpenBLAS its GEMMs."""
    blas = threads
    omp = 1 if variant == "torch1-blas2" else threads
    os.environ["OMP_NUM_THREADS"] = str(omp)
    os.environ["OPENBLAS_NUM_THREADS"] = str(blas)
    return omp


def load_images(name):
    """An IDX image file (gzip) as an n x 784 float32 array in [0, 1]."""
    import numpy as np
    directory = os.environ.get("MNIST_DIR", os.path.join("data", "mnist"))
    with gzip.open(os.path.join(directory, name + ".gz"), "rb") as f:
        data = f.read()
    count = int.from_bytes(data[4:8], "big")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16)
    return (pixels.reshape(count, 784).astype(np.float32) / 255.0)


def emit(workload, threads, variant, metric, value, framework="pytorch"):
    print(f"{framework},{workload},{threads},{variant},{metric},{value:.6g}", flush=True)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# ---------------------------------------------------------------------------- the models

def build_models():
    import torch
    from torch import nn
    import torch.nn.functional as F

    def mlp(widths, hidden, last):
        layers = []
        for i in range(len(widths) - 1):
            layers.append(nn.Linear(widths[i], widths[i + 1]))
            layers.append(last() if i == len(widths) - 2 else hidden())
        return nn.Sequential(*layers)

    class DenseAutoencoder(nn.Module):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def loss(self, x):
            return (self.decoder(self.encoder(x)) - x).pow(2).sum(1).mean()

    def w1():
        return DenseAutoencoder(mlp([784, 512, 256, 64], nn.ReLU, nn.ReLU),
                                mlp([64, 256, 512, 784], nn.ReLU, nn.Sigmoid))

    def w2():
        return DenseAutoencoder(mlp([784, 64], nn.Sigmoid, nn.Sigmoid),
                                mlp([64, 784], nn.Sigmoid, nn.Sigmoid))

    class Vae(nn.Module):
        """pytorch/examples vae/main.py, with the sigmoid folded into the loss."""

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def loss(self, x):
            h = F.relu(self.fc1(x))
            mu, logvar = self.fc21(h), self.fc22(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = self.fc4(F.relu(self.fc3(z)))
            bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            return bce + kld  # summed over the batch, as the example does

    class ConvAutoencoder(nn.Module):
        """W4, NCHW: 1x28x28 -> conv 16x14x14 -> conv 32x7x7 -> 32 -> 32x7x7 -> 16x14x14 -> 1x28x28."""

        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
                nn.Flatten(), nn.Linear(32 * 7 * 7, 32))
            self.decoder = nn.Sequential(
                nn.Linear(32, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
                nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1), nn.Sigmoid())

        def loss(self, x):
            images = x.view(-1, 1, 28, 28)
            return (self.decoder(self.encoder(images)) - images).pow(2).sum((1, 2, 3)).mean()

    return {"W1": (w1, 128), "W2": (w2, 64), "W3": (Vae, 128), "W4": (ConvAutoencoder, 128)}


# ---------------------------------------------------------------------------- measurements

class OverBudget(Exception):
    """Training stopped at the time budget: samples / seconds of the steps it ran."""

    def __init__(self, samples_per_s):
        super().__init__()
        self.samples_per_s = samples_per_s


def train(model, optimizer, X, batch, epochs, budget=None):
    """Reshuffled every epoch; returns each epoch's seconds (the steps and the batch gather).
    A run projected to take more than `budget` seconds stops after 20 (or at the budget) and
    raises OverBudget with its rate so far, past epoch 1 if it got there.
    """
    import torch
    n = X.shape[0]
    seconds = []
    begin = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        start = time.perf_counter()
        for first in range(0, n, batch):
            xb = X.index_select(0, order[first:first + batch])
            loss = model.loss(xb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            now = time.perf_counter()
            if budget is not None and now - begin > 20:
                done_overall = len(seconds) * n + first + xb.shape[0]
                projected = (now - begin) * epochs * n / done_overall
                if projected > budget:
                    done = first + xb.shape[0] + n * max(len(seconds) - 1, 0)
                    raise OverBudget(done / (now - start + sum(seconds[1:])))
        seconds.append(time.perf_counter() - start)
    return seconds


def measure_training(workload, threads, variant, quick, budget, seed):
    import torch
    torch.manual_seed(seed)
    X = torch.from_numpy(load_images("train-images-idx3-ubyte"))
    epochs = 3 if quick else 5
    if quick:
        X = X[:10000].contiguous()
    make, batch = build_models()[workload]
    model = make()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    try:
        seconds = train(model, adam, X, batch, epochs, budget)
    except OverBudget as stopped:
        emit(workload, threads, variant, "samples_per_s", stopped.samples_per_s)
        emit(workload, threads, variant, "over_budget_s", budget)
        return
    emit(workload, threads, variant, "samples_per_s", (epochs - 1) * X.shape[0] / sum(seconds[1:]))
    if workload == "W1":
        emit(workload, threads, variant, "peak_rss_mb", peak_rss_mb())
        emit(workload, threads, variant, "data_mb", X.numel() * 4 / 2**20)
    if workload == "W3" and not quick:
        train(model, adam, X, batch, 10 - epochs)
        test = torch.from_numpy(load_images("t10k-images-idx3-ubyte"))
        with torch.no_grad():
            total = sum(model.loss(test[i:i + 1000]).item() for i in range(0, test.shape[0], 1000))
        emit(workload, threads, variant, "test_loss", total / test.shape[0])


def measure_inference(threads, variant, quick, seed):
    """W5: W1's encoder after one epoch (a trained model's values, not a fresh one's)."""
    import torch
    torch.manual_seed(seed)
    X = torch.from_numpy(load_images("train-images-idx3-ubyte"))
    model = build_models()["W1"][0]()
    train(model, torch.optim.Adam(model.parameters(), lr=1e-3), X[:10000] if quick else X, 128, 1)
    encoder = model.encoder.eval()
    calls = 500 if quick else 5000
    latencies = []
    with torch.no_grad():
        one = X[:1].clone()
        for _ in range(100):
            encoder(one)
        for i in range(calls):
            one = X[i:i + 1]
            start = time.perf_counter()
            encoder(one)
            latencies.append(time.perf_counter() - start)
        block = X[:1000].clone()
        for _ in range(5):
            encoder(block)
        blocks = []
        for _ in range(20 if quick else 100):
            start = time.perf_counter()
            encoder(block)
            blocks.append(time.perf_counter() - start)
    emit("W5", threads, variant, "latency_us", median(latencies) * 1e6)
    emit("W5", threads, variant, "encode_1000_ms", median(blocks) * 1e3)


def measure_pca(solver, quick):
    import numpy as np
    from sklearn.decomposition import PCA
    train_set = load_images("train-images-idx3-ubyte")
    test = load_images("t10k-images-idx3-ubyte")
    if quick:
        train_set = train_set[:10000]
    options = {"svd_solver": solver}
    if solver == "randomized":
        options["random_state"] = 0
    start = time.perf_counter()
    PCA(n_components=64, **options).fit(train_set)
    emit("pca", 1, solver, "fit_s", time.perf_counter() - start, "sklearn")
    pca = PCA(n_components=32, **options).fit(train_set)
    error = pca.inverse_transform(pca.transform(test)) - test
    emit("pca", 1, solver, "test_mse_k32", float(np.mean(error.astype(np.float64) ** 2)), "sklearn")


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])


def measure(args):
    if args.workload == "pca":
        set_thread_environment(1, "plain")
        measure_pca(args.variant, args.quick)
        return
    if args.variant not in VARIANTS:
        sys.exit(f"pytorch_peers.py: unknown variant '{args.variant}' for {args.workload}")
    omp = set_thread_environment(args.threads, args.variant)
    import torch
    torch.set_num_threads(omp)
    if args.workload == "W5":
        measure_inference(args.threads, args.variant, args.quick, args.seed)
    else:
        measure_training(args.workload, args.threads, args.variant, args.quick, args.budget,
                         args.seed)


def measure_all(args):
    """Each measurement args.runs times, each in a fresh process; rows get the run appended."""
    threads = [int(t) for t in args.threads_list.split(",")]
    plan = []
    for workload in args.workloads.split(","):
        if workload == "pca":
            plan += [("pca", 1, "full"), ("pca", 1, "randomized")]
            continue
        counts = [1] if workload == "W3" else threads  # the issue measures W3 at 1 thread
        for t in counts:
            plan.append((workload, t, "plain"))
            if t == 2:
                plan.append((workload, t, "torch1-blas2"))
    for run in range(1, args.runs + 1):  # rounds, so that a slow spell hits every measurement
        for workload, t, variant in plan:
            command = [sys.executable, os.path.abspath(__file__), "--workload", workload,
                       "--threads", str(t), "--variant", variant, "--budget", str(args.budget),
                       "--seed", str(args.seed)]
            command += ["--quick"] if args.quick else []
            print(f"pytorch_peers.py: run {run}: {workload}, {t} thread(s), {variant}",
                  file=sys.stderr, flush=True)
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            for row in output.splitlines():
                print(f"{row},{run}", flush=True)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.all:
        measure_all(arguments)
    else:
        measure(arguments)
