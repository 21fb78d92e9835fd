#!/usr/bin/env python3
"""Records TensorFlow's answers for the conformance suite (tests/conformance/).

    .venv/bin/python scripts/make_conformance_data.py                  # the committed data set
    .venv/bin/python scripts/make_conformance_data.py --live 16 --seed S --out DIR   # a fresh random slice

TensorFlow runs its own CPU kernel (TF_ENABLE_ONEDNN_OPTS=0). For each case the inputs are regenerated from
seeds (scripts/conformance_cases.py), so the data holds only, per filter element, TensorFlow's float64 answer
(on the case's inputs rounded to its dtype) and sum |x * dy| over the same reduction (for SPEC's bound).
Dilated cases come from TensorFlow's autodiff of tf.nn.depthwise_conv2d, since the raw op ignores dilations.
NCHW needs no TensorFlow run of its own: the C++ suite transposes the same inputs and expects the same answer.
Bad cases record TensorFlow's error class and message.
"""

import argparse
import os
import random
import re
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance_cases as cc  # noqa: E402

FIELDS = ["id", "source", "dtype", "n", "h", "w", "c", "fh", "fw", "m", "stride", "padding", "dil_h", "dil_w",
          "pad_top", "pad_bottom", "pad_left", "pad_right", "oh", "ow", "seed_x", "seed_dy", "offset", "count"]


def inputs(case, dtype):
    x = cc.seeded_values(case["seed_x"], case["n"] * case["h"] * case["w"] * case["c"])
    dy = cc.seeded_values(case["seed_dy"], case["n"] * case["oh"] * case["ow"] * case["c"] * case["m"])
    x = x.astype(dtype).reshape(case["n"], case["h"], case["w"], case["c"])
    dy = dy.astype(dtype).reshape(case["n"], case["oh"], case["ow"], case["c"] * case["m"])
    return x, dy


def tf_filter_grad(case, x, dy):
    """TensorFlow's answer in x's dtype."""
    sizes = [case["fh"], case["fw"], case["c"], case["m"]]
    s = case["stride"]
    if (case["dil_h"], case["dil_w"]) != (1, 1):
        w = tf.Variable(tf.zeros(sizes, dtype=x.dtype))
        with tf.GradientTape() as tape:
            y = tf.nn.depthwise_conv2d(tf.constant(x), w, strides=[1, 1, 1, 1], padding=case["padding"],
                                       dilations=[case["dil_h"], case["dil_w"]])
        return tape.gradient(y, w, output_gradients=tf.constant(dy)).numpy()
    explicit = []
    if case["padding"] == "EXPLICIT":
        explicit = [0, 0, case["pad_top"], case["pad_bottom"], case["pad_left"], case["pad_right"], 0, 0]
    return tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(
        input=tf.constant(x), filter_sizes=tf.constant(sizes, dtype=tf.int32), out_backprop=tf.constant(dy),
        strides=[1, s, s, 1], padding=case["padding"], explicit_paddings=explicit, data_format="NHWC").numpy()


def record(case, data):
    """Appends the case's answers to `data`; returns (offset, count)."""
    dtype = np.float32 if case["dtype"] == "float32" else np.float64
    x, dy = inputs(case, dtype)
    count = case["fh"] * case["fw"] * case["c"] * case["m"]
    reduction = case["n"] * case["oh"] * case["ow"]
    if reduction == 0 or x.size == 0:
        # SPEC: an empty reduction is a zero gradient (TensorFlow returns uninitialised memory here).
        want = np.zeros(count)
        magnitude = np.zeros(count)
    else:
        x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
        want = tf_filter_grad(case, x64, dy64).reshape(-1)
        magnitude = tf_filter_grad(case, np.abs(x64), np.abs(dy64)).reshape(-1)
        if dtype == np.float32:
            # TensorFlow's own float32 kernel must meet SPEC's bound too, or the bound is not credible.
            got32 = tf_filter_grad(case, x, dy).reshape(-1).astype(np.float64)
            bound = 1e-5 * np.sqrt(reduction) * magnitude + 1e-6
            worst = np.max(np.abs(got32 - want) - bound)
            assert worst <= 0, f"TensorFlow float32 exceeds SPEC's bound on case {case['id']}: {worst}"
    offset = len(data)
    data += want.astype("<f8").tobytes() + magnitude.astype("<f4").tobytes()
    return offset, count


def bad_case_rows():
    rows = []
    for name, x_shape, sizes, sizes_shape, dy_shape, strides, padding, explicit, fmt, dtypes in cc.bad_cases():
        x = tf.zeros(x_shape, dtype=dtypes[0])
        dy = tf.zeros(dy_shape, dtype=dtypes[1])
        fs = tf.reshape(tf.constant(sizes, dtype=tf.int32), sizes_shape)
        try:
            tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(
                input=x, filter_sizes=fs, out_backprop=dy, strides=strides, padding=padding,
                explicit_paddings=explicit, data_format=fmt)
            print(f"  bad case {name}: TensorFlow accepted it; not recorded", file=sys.stderr)
            continue
        except (tf.errors.OpError, ValueError, TypeError) as e:
            message = getattr(e, "message", str(e))
            # Keep TensorFlow's own sentence: drop the eager wrapper's node prefix and the NodeDef dump.
            message = re.split(r"\s*; NodeDef:", message.split(" [Op:")[0])[0]
            message = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", message)
            message = message.strip().replace("\t", " ").replace("\n", " ")
            kind = type(e).__name__
        join = lambda v: ",".join(str(i) for i in v) if len(v) else "-"  # noqa: E731
        rows.append([name, join(x_shape), join(sizes), join(sizes_shape), join(dy_shape), join(strides), padding,
                     join(explicit), fmt, dtypes[0], dtypes[1], kind, message])
    return rows


def write(out_dir, cases, with_bad):
    os.makedirs(out_dir, exist_ok=True)
    data = bytearray()
    lines = ["\t".join(FIELDS)]
    start = time.time()
    for i, case in enumerate(cases):
        case["id"] = i
        case["seed_x"], case["seed_dy"] = 2 * i + 1, 2 * i + 2
        case["offset"], case["count"] = record(case, data)
        lines.append("\t".join(str(case[f]) for f in FIELDS))
        if (i + 1) % 25 == 0:
            print(f"  {i + 1}/{len(cases)} cases ({time.time() - start:.0f} s)", file=sys.stderr)
    with open(os.path.join(out_dir, "cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "answers.bin"), "wb") as f:
        f.write(bytes(data))
    if with_bad:
        rows = bad_case_rows()
        header = ["name", "input_shape", "filter_sizes", "filter_sizes_shape", "out_backprop_shape", "strides",
                  "padding", "explicit_paddings", "data_format", "input_dtype", "out_backprop_dtype",
                  "tf_error", "tf_message"]
        with open(os.path.join(out_dir, "bad_cases.tsv"), "w") as f:
            f.write("\n".join("\t".join(r) for r in [header] + rows) + "\n")
        print(f"  {len(rows)} bad cases", file=sys.stderr)
    print(f"wrote {len(cases)} cases to {out_dir} ({len(data)} bytes of answers, {time.time() - start:.0f} s)",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "conformance", "data"))
    parser.add_argument("--live", type=int, default=0, help="write N fresh random cases (per dtype) instead")
    parser.add_argument("--seed", type=int, default=None, help="seed of the live slice (default: the clock)")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(2)
    if args.live:
        seed = args.seed if args.seed is not None else int(time.time())
        print(f"live slice: {args.live} random cases per dtype, seed {seed}", file=sys.stderr)
        base = cc.random_cases(random.Random(seed), args.live, source=f"live_{seed}")
        cases = [dict(c, dtype=d) for d in ("float32", "float64") for c in base]
        write(args.out, cases, with_bad=False)
    else:
        write(args.out, cc.all_cases(), with_bad=True)


if __name__ == "__main__":
    main()
