#!/usr/bin/env python3
"""Turns a `halogen bench` result (bench/results/bench-*.json) into docs/PERF.md and its plot, with the
newest GPU result (bench/results/gpu-*.json, from scripts/gpu_bench.sh) as a section of its own.

    .venv/bin/python scripts/bench_report.py [RESULT.json]      (default: the newest result)

PERF.md holds the machine's measured roofline, the per-layer table at each thread count, geometric-mean
ratios per layer family, and the reading kept by hand in docs/perf_notes.md.
"""

import glob
import json
import math
import os
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PEERS = ["tensorflow", "tensorflow-eigen", "onednn", "onednn-2.6", "reference"]


def geomean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def family(shape, layout):
    if shape["n"] == 1:
        return "batch 1"
    if layout == "NCHW":
        return "NCHW"
    return f'{shape["fh"]}x{shape["fw"]} NHWC'


def gpu_section(path):
    """The GPU table: halogen's default CUDA kernel against cuDNN, % of the GPU's measured read bandwidth."""
    records = json.load(open(path))
    by_key = defaultdict(dict)
    sweep = defaultdict(list)
    for r in records:
        key = (r["shape"]["name"], r["layout"])
        if r["impl"] == "halogen-cuda-sweep":
            sweep[key].append(r)
        else:
            by_key[key][r["impl"]] = r
    any_record = records[0]
    version = next((r["note"].split(",")[0].split()[-1] for r in records if r["impl"] == "cudnn"), "")
    cudnn_version = (f"cuDNN {int(version) // 10000}.{int(version) % 10000 // 100}.{int(version) % 100}"
                     if version.isdigit() else "cuDNN")
    lines = ["## GPU", "",
             f"`scripts/gpu_bench.sh` (`{os.path.relpath(path, ROOT)}`) on one {any_record['device']}: halogen's "
             "CUDA kernels generated ahead of time (no Halide or LLVM on that machine) against "
             f"{cudnn_version}'s grouped backward-filter convolution (its fastest algorithm, true float32: FMA "
             "math, no TF32), on the same device buffers. CUDA-event medians of 20 runs, cold (L2 flushed by "
             "writing four times its size first); every result checked against a float64 reference. Measured "
             f"in the same run: read bandwidth {any_record['bandwidth_gbs']:.0f} GB/s, FMA peak "
             f"{any_record['peak_gflops'] / 1000:.1f} TFLOP/s. `best sweep` is the fastest (schedule, rows per "
             "chunk) the run tried.", "",
             "| layer | layout | halogen ms | % bandwidth | cuDNN ms (x) | cuDNN % bandwidth | best sweep ms |",
             "|---|---|---:|---:|---:|---:|---:|"]
    ratios = defaultdict(list)
    for (name, layout), impls in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if "halogen-cuda" not in impls:
            continue
        h = impls["halogen-cuda"]
        best = min(sweep[(name, layout)], key=lambda r: r["median_ms"]) if sweep[(name, layout)] else h
        best_text = f'{best["median_ms"]:.3f} ({best["note"].split(", ")[0]}, {best["note"].split(", ")[1].split()[-1]})'
        if "cudnn" in impls:
            c = impls["cudnn"]
            ratio = c["median_ms"] / h["median_ms"]
            ratios[layout].append(ratio)
            peer = f'{c["median_ms"]:.3f} ({ratio:.2f}) | {c["percent_of_bandwidth"]:.0f}%'
        else:
            peer = "— | —"
        lines.append(f'| {name} | {layout} | {h["median_ms"]:.3f} | {h["percent_of_bandwidth"]:.0f}% | {peer} | '
                     f"{best_text} |")
    lines.append("")
    for layout, values in sorted(ratios.items()):
        lines.append(f"- {layout}: cuDNN time / halogen time, geometric mean {geomean(values):.2f} "
                     f"({sum(v >= 1 for v in values)} of {len(values)} layers at or above 1)")
    lines.append("")
    return lines


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def main():
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(__doc__.strip())
        return
    if len(sys.argv) > 2:
        fail("bench_report.py takes at most one result file (see --help)")
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        results = glob.glob(os.path.join(ROOT, "bench", "results", "bench-*.json"))
        if not results:
            fail("no bench/results/bench-*.json; run `halogen bench` first")
        path = max(results)
    try:
        records = json.load(open(path))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    by_key = defaultdict(dict)  # (threads, name, layout) -> impl -> record
    machine = {}
    for r in records:
        by_key[(r["threads"], r["shape"]["name"], r["layout"])][r["impl"]] = r
        machine[r["threads"]] = (r["peak_gflops"], r["bandwidth_gbs"])
    notes = {}
    for r in records:
        if r["impl"] in ("onednn", "onednn-2.6") and r["note"]:
            notes[r["impl"]] = r["note"].split(" (")[-1].rstrip(")") if "(" in r["note"] else r["note"]

    rounds = max(r.get("rounds", 1) for r in records) if records else 1
    rounds_text = (f", in {rounds} rounds that alternate the implementations (each figure the median of its "
                   f"{rounds} round medians)") if rounds > 1 else ""
    # Runs before `roofline_rounds` measured the machine once, before their rounds.
    roofline_rounds = max(r.get("roofline_rounds", 1) for r in records) if records else 1
    roofline_rounds_text = (f", at the start of each of the {roofline_rounds} rounds, the roofline taking their "
                            "medians" if roofline_rounds > 1 else
                            ", once before the rounds" if rounds > 1 else "")
    lines = ["# Performance", "",
             "DepthwiseConv2dNativeBackpropFilter, float32, measured by `halogen bench` "
             f"(`{os.path.relpath(path, ROOT)}`) on this project's 2-core machine. Generated by "
             "`scripts/bench_report.py`; the reading below the tables is kept in `docs/perf_notes.md`.", "",
             f"Times are medians of 10 cold runs{rounds_text} (every line of a buffer four times the last-level cache "
             "read and written, on every core, before each run); "
             "hot medians (back to back, after 20 ms of untimed calls) are in the JSON. "
             "GFLOP/s = 2·N·OH·OW·C·M·FH·FW / time. The roofline is "
             "min(peak, bandwidth × FLOP/byte) with bytes = 4·(|X| + |dY| + |dW|), peak and bandwidth measured "
             "by the harness in the same run (an FMA loop in the widest vectors the host offers; a 1 GiB read summed "
             "with vector adds)"
             f"{roofline_rounds_text}:", ""]
    hosts = sorted({r.get("cpu", "") for r in records} - {""})
    if hosts:
        lines.append(f"- host: {'; '.join(hosts)} (the kernels take the widest vectors it offers)")
    for threads, (peak, bw) in sorted(machine.items()):
        lines.append(f"- {threads} thread(s): FMA peak {peak:.0f} GFLOP/s, streaming-read bandwidth {bw:.1f} GB/s")
    # Building halogen's kernels, apart from the timings (runs before these fields were recorded have none).
    jit = next((r for r in records if r["impl"] == "halogen" and "jit_compiles" in r), None)
    if jit is not None:
        if jit["jit_compiles"] > 0:
            lines.append(f"- JIT compile (not in the timings): {jit['jit_compile_s']:.1f} s for "
                         f"{jit['jit_compiles']} compile(s), the kernels and the Halide runtime")
        if jit["jit_kernels_loaded"] > 0:
            lines.append(f"- {jit['jit_kernels_loaded']} kernel(s) loaded from the disk cache in "
                         f"{jit['jit_load_s'] * 1000:.0f} ms, compiled by an earlier process (`--kernels fresh` "
                         "compiles them in the run, to time the compile)")
    lines += ["", "Peers: `tensorflow` is the tensorflow-cpu 2.21 wheel as shipped; `tensorflow-eigen` the same with "
              "`TF_ENABLE_ONEDNN_OPTS=0` (TensorFlow's own kernel); `onednn` is oneDNN's newest CPU build on PyPI "
              f"({notes.get('onednn', 'n/a')}); `onednn-2.6` is Debian's libdnnl 2.6 ({notes.get('onednn-2.6', 'n/a')}); "
              "both oneDNN times are the backward-weights primitive alone, in the weights layout oneDNN prefers. "
              "Ratios are peer time / halogen time (above 1: halogen is faster).", ""]

    # Runs before `cold-read` have no such column.
    has_read = any(r["impl"] == "cold-read" for r in records)
    if has_read:
        lines += ["`cold read` is no kernel: a plain read of the layer's tensors (the roofline's bytes, in memory "
                  "order, all threads), timed cold like the kernels; in brackets, halogen's share of its rate "
                  "(read time / halogen time). It checks the roofline's bandwidth at each layer's size under the "
                  "cold protocol.", ""]
    read_header = " cold read ms (%) |" if has_read else ""
    summary = defaultdict(lambda: defaultdict(list))
    for threads in sorted(machine):
        lines += [f"## {threads} thread(s)", "",
                  "| layer | layout | halogen ms | GFLOP/s | % roofline |" + read_header + " " +
                  " | ".join(f"{p} ms (x)" for p in PEERS) + " |",
                  "|---|---|---:|---:|---:|" + "---:|" * (len(PEERS) + has_read)]
        for (t, name, layout), impls in sorted(by_key.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
            if t != threads or "halogen" not in impls:
                continue
            h = impls["halogen"]
            cells = []
            for p in PEERS:
                if p in impls:
                    ratio = impls[p]["median_ms"] / h["median_ms"]
                    cells.append(f'{impls[p]["median_ms"]:.2f} ({ratio:.2f})')
                    summary[(threads, family(h["shape"], layout))][p].append(ratio)
                else:
                    cells.append("—")
            summary[(threads, family(h["shape"], layout))]["roofline"].append(h["percent_of_roofline"])
            read_cell = ""
            if has_read:
                read_cell = "— | "
                if "cold-read" in impls:
                    read = impls["cold-read"]["median_ms"]
                    read_cell = f'{read:.2f} ({100 * read / h["median_ms"]:.0f}%) | '
                    summary[(threads, family(h["shape"], layout))]["read"].append(100 * read / h["median_ms"])
            lines.append(f'| {name} | {layout} | {h["median_ms"]:.2f} | {h["gflops"]:.1f} | '
                         f'{h["percent_of_roofline"]:.0f}% | ' + read_cell + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Geometric means", "",
              "| threads | family | halogen % roofline |" + (" halogen % of cold read |" if has_read else "") + " " +
              " | ".join(f"x {p}" for p in PEERS) + " |",
              "|---:|---|---:|" + "---:|" * (len(PEERS) + has_read)]
    for (threads, fam), values in sorted(summary.items()):
        read_cell = (f"{geomean(values['read']):.0f}% | " if values["read"] else "— | ") if has_read else ""
        lines.append(f"| {threads} | {fam} | {geomean(values['roofline']):.0f}% | " + read_cell +
                     " | ".join(f"{geomean(values[p]):.2f}" if values[p] else "—" for p in PEERS) + " |")
    lines.append("")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        threads = max(machine)
        keys = [k for k in sorted(by_key) if k[0] == threads and k[2] == "NHWC" and "halogen" in by_key[k]]
        impls = ["halogen", "tensorflow", "tensorflow-eigen", "onednn", "onednn-2.6"]
        fig, ax = plt.subplots(figsize=(14, 5))
        width = 0.16
        for i, impl in enumerate(impls):
            ys = [by_key[k][impl]["gflops"] if impl in by_key[k] else 0 for k in keys]
            ax.bar([j + (i - 2) * width for j in range(len(keys))], ys, width, label=impl)
        roof = [by_key[k]["halogen"]["roofline_gflops"] for k in keys]
        ax.scatter(range(len(keys)), roof, marker="_", s=400, color="black", label="roofline", zorder=3)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([k[1] for k in keys], rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("GFLOP/s (cold)")
        ax.set_title(f"DepthwiseConv2dNativeBackpropFilter, NHWC float32, {threads} threads")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(ROOT, "docs", "perf_nhwc.png"), dpi=110)
        lines += ["![NHWC GFLOP/s per layer](perf_nhwc.png)", ""]
    except ImportError:
        lines += ["(plot skipped: matplotlib is not installed; `scripts/bootstrap.sh --bench` installs it)", ""]

    gpu_results = glob.glob(os.path.join(ROOT, "bench", "results", "gpu-*.json"))
    if gpu_results:
        lines += gpu_section(max(gpu_results))

    notes_path = os.path.join(ROOT, "docs", "perf_notes.md")
    if os.path.exists(notes_path):
        lines += [open(notes_path).read().rstrip(), ""]
    with open(os.path.join(ROOT, "docs", "PERF.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"wrote docs/PERF.md from {path}")


if __name__ == "__main__":
    main()
