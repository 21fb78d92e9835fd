#!/usr/bin/env python3
"""Peer for `halogen bench`: TensorFlow's DepthwiseConv2dNativeBackpropFilter, the raw op inside a
tf.function, with intra-op threads set to --threads. Run with TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow as
shipped, which may route the op to its bundled oneDNN) or =0 (TensorFlow's own kernel). NHWC only: the
CPU kernel has no NCHW path. Prints one JSON record per shape, as bench/bench_common.h reads them."""

import argparse
import concurrent.futures
import json
import os
import statistics
import time

import numpy as np


def read_shapes(path):
    shapes = []
    for line in open(path):
        body = line.split("#")[0].split()
        if not body:
            continue
        name, n, h, w, c, m, fh, fw, stride, padding = body
        shapes.append(dict(name=name, n=int(n), h=int(h), w=int(w), c=int(c), m=int(m), fh=int(fh), fw=int(fw),
                           stride=int(stride), padding=padding))
    return shapes


def out_size(i, k, s, padding):
    return (i + s - 1) // s if padding == "SAME" else (i - k + s) // s


def last_level_cache_bytes():
    for index in (3, 2, 1, 0):
        try:
            text = open(f"/sys/devices/system/cpu/cpu0/cache/index{index}/size").read().strip()
            return int(text[:-1]) << (20 if text[-1] == "M" else 10)
        except (OSError, ValueError):
            continue
    return 64 << 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--impl", default="tensorflow")
    args = parser.parse_args()

    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    # As bench_common.cc evicts: every line read and written with ordinary stores, one thread per core
    # (numpy's add releases the GIL), since each core's L2 is its own.
    evict = np.zeros(max(last_level_cache_bytes() * 4, 64 << 20) // 8)
    cores = max(1, os.cpu_count() or 1)
    slices = [evict[i * len(evict) // cores:(i + 1) * len(evict) // cores] for i in range(cores)]
    evictors = concurrent.futures.ThreadPoolExecutor(max_workers=cores)

    def evict_caches():
        list(evictors.map(lambda part: np.add(part, 1.0, out=part), slices))

    for s in read_shapes(args.shapes):
        oh, ow = out_size(s["h"], s["fh"], s["stride"], s["padding"]), out_size(s["w"], s["fw"], s["stride"], s["padding"])
        rng = np.random.default_rng(0)
        x = tf.constant(rng.uniform(-0.5, 0.5, (s["n"], s["h"], s["w"], s["c"])).astype(np.float32))
        dy = tf.constant(rng.uniform(-0.5, 0.5, (s["n"], oh, ow, s["c"] * s["m"])).astype(np.float32))
        sizes = tf.constant([s["fh"], s["fw"], s["c"], s["m"]], dtype=tf.int32)

        @tf.function
        def step(x, sizes, dy, stride=s["stride"], padding=s["padding"]):
            return tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(
                input=x, filter_sizes=sizes, out_backprop=dy, strides=[1, stride, stride, 1], padding=padding)

        for _ in range(2):
            step(x, sizes, dy).numpy()
        cold, hot = [], []
        for _ in range(args.runs):
            evict_caches()
            start = time.perf_counter()
            step(x, sizes, dy).numpy()
            cold.append((time.perf_counter() - start) * 1e3)
        # As in bench_common.cc: the hot runs start once the calls have run back to back for 20 ms.
        settle_start = time.perf_counter()
        for _ in range(1000):
            step(x, sizes, dy).numpy()
            if time.perf_counter() - settle_start >= 0.02:
                break
        for _ in range(args.runs):
            start = time.perf_counter()
            step(x, sizes, dy).numpy()
            hot.append((time.perf_counter() - start) * 1e3)
        flops = 2.0 * s["n"] * oh * ow * s["c"] * s["m"] * s["fh"] * s["fw"]
        median = statistics.median(cold)
        print(json.dumps(dict(shape=s, layout="NHWC", threads=args.threads, impl=args.impl, median_ms=median,
                              median_hot_ms=statistics.median(hot), gflops=flops / (median * 1e6),
                              note="TF_ENABLE_ONEDNN_OPTS=" + os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"))),
              flush=True)


if __name__ == "__main__":
    main()
