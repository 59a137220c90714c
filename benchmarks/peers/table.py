#!/usr/bin/env python3
"""Prints the table of benchmarks/peers/compare.sh from the raw rows it wrote (stdlib only).

  table.py OUT_DIR     reads OUT_DIR/runs.csv and OUT_DIR/train_step-*.json, writes
                       OUT_DIR/medians.csv and prints a Markdown table

runs.csv rows: framework,workload,threads,variant,metric,value,run (pytorch_peers.py and
peers_latent print all but the run). Each figure is the median over the runs. At 2 threads
PyTorch's better variant is shown: plain (2 torch threads, 2 OpenBLAS threads) or t1b2 (torch
ops on 1 thread, OpenBLAS on 2). A * marks a figure from a run stopped at its time budget.
"""

import csv
import glob
import json
import os
import statistics
import sys
from collections import defaultdict


def read_runs(path):
    values = defaultdict(list)
    with open(path, newline="") as f:
        for framework, workload, threads, variant, metric, value, _run in csv.reader(f):
            values[(framework, workload, int(threads), variant, metric)].append(float(value))
    return {key: statistics.median(v) for key, v in values.items()}


# The batch each workload trains at (pytorch_peers.py, peers_latent.cpp): its GEMM bound is
# train_step's row of that batch, in float.
BATCH = {"W1": 128, "W2": 64}


def read_gemm_bounds(out_dir):
    """train_step's GEMM-only samples/s, median over its runs: {(workload, threads): value}."""
    values = defaultdict(list)
    for path in glob.glob(os.path.join(out_dir, "train_step-*.json")):
        with open(path) as f:
            rows = json.load(f)["benchmarks"]
        for row in rows:
            name = row["name"]  # train_step/W1_784-.../float/batch:128/threads:1/manual_time
            if row.get("run_type") != "iteration":
                continue
            workload = name.split("/")[1].split("_")[0]
            threads = int(name.split("threads:")[1].split("/")[0])
            batch = int(name.split("batch:")[1].split("/")[0])
            if "/float/" not in name or batch != BATCH.get(workload):
                continue
            values[(workload, threads)].append(float(row["gemm samples/s"]))
    return {key: statistics.median(v) for key, v in values.items()}


def number(value, digits=0):
    if value is None:
        return "-"
    if digits == 0:
        return f"{value:,.0f}".replace(",", " ") if value >= 1000 else f"{value:.0f}"
    return f"{value:.{digits}f}"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: table.py OUT_DIR")
    out_dir = sys.argv[1]
    medians = read_runs(os.path.join(out_dir, "runs.csv"))
    bounds = read_gemm_bounds(out_dir)
    with open(os.path.join(out_dir, "medians.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["framework", "workload", "threads", "variant", "metric", "median"])
        for key in sorted(medians):
            writer.writerow(list(key) + [f"{medians[key]:.6g}"])

    def latent(workload, threads, metric, variant="plain"):
        return medians.get(("latent", workload, threads, variant, metric))

    def peer(workload, threads, metric, higher_is_better, framework="pytorch", variant=None):
        """The peer's figure and, at 2 threads, which variant gave it."""
        if variant is not None:
            return medians.get((framework, workload, threads, variant, metric)), ""
        found = [(medians[(framework, workload, threads, v, metric)], v)
                 for v in ("plain", "torch1-blas2")
                 if (framework, workload, threads, v, metric) in medians]
        if not found:
            return None, ""
        value, variant = (max if higher_is_better else min)(found)
        note = {"plain": " (plain)", "torch1-blas2": " (t1b2)"}[variant] if threads == 2 else ""
        if (framework, workload, threads, variant, "over_budget_s") in medians:
            note += " *"
        return value, note

    rows = []

    def row(label, threads, ours, theirs, note="", ratio=None, bound=None, digits=0):
        rows.append([label, str(threads), number(ours, digits), number(theirs, digits) + note,
                     f"{ratio:.2f}x" if ratio else "-", f"{bound:.2f}" if bound else "-"])

    for workload, label in (("W1", "W1 samples/s"), ("W2", "W2 samples/s"), ("W3", "W3 samples/s"),
                            ("W4", "W4 samples/s (conv)")):
        for threads in ((1,) if workload == "W3" else (1, 2)):
            ours = latent(workload, threads, "samples_per_s")
            theirs, note = peer(workload, threads, "samples_per_s", True)
            if ours is None and theirs is None:
                continue
            bound = bounds.get((workload, threads))
            row(label, threads, ours, theirs, note, ours / theirs if ours and theirs else None,
                ours / bound if ours and bound else None)
        if workload == "W3" and latent("W3", 1, "test_loss") is not None:
            theirs, _ = peer("W3", 1, "test_loss", False)
            row("W3 test loss after 10 epochs (nats)", 1, latent("W3", 1, "test_loss"), theirs,
                digits=1)
    for metric, label, bound_metric in (("latency_us", "W5 latency of 1 sample (us)", "gemm_latency_us"),
                                        ("encode_1000_ms", "W5 encode 1,000 (ms)", "gemm_encode_1000_ms")):
        for threads in (1, 2):
            ours = latent("W5", threads, metric)
            theirs, note = peer("W5", threads, metric, False)
            bound = latent("W5", threads, bound_metric)
            digits = 0 if metric == "latency_us" else 2
            row(label, threads, ours, theirs, note, theirs / ours if ours and theirs else None,
                bound / ours if ours and bound else None, digits)
    data = latent("W1", 1, "data_mb")
    if data is not None:
        theirs, _ = peer("W1", 1, "peak_rss_mb", False)
        row(f"W1 peak resident memory (MiB; the data: {data:.0f})", 1,
            latent("W1", 1, "peak_rss_mb"), theirs)
    for ours_variant, their_variant in (("exact", "full"), ("randomized", "randomized")):
        ours = latent("pca", 1, "fit_s", ours_variant)
        theirs, _ = peer("pca", 1, "fit_s", False, "sklearn", their_variant)
        row(f"PCA fit, k = 64, {ours_variant} / {their_variant} (s)", 1, ours, theirs,
            ratio=theirs / ours if ours and theirs else None, digits=2)
        ours = latent("pca", 1, "test_mse_k32", ours_variant)
        theirs, _ = peer("pca", 1, "test_mse_k32", False, "sklearn", their_variant)
        row(f"PCA test MSE, k = 32, {ours_variant} / {their_variant}", 1, ours, theirs, digits=5)

    header = ["workload", "threads", "latent", "PyTorch / scikit-learn", "latent / peer (speed)",
              "latent / its GEMM bound"]
    print("| " + " | ".join(header) + " |")
    print("|---|--:|--:|--:|--:|--:|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
