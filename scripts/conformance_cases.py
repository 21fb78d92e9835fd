"""The conformance case list for DepthwiseConv2dNativeBackpropFilter and the seeded input generator.

The inputs of every case are a pure function of (seed, element index), implemented identically here and in
tests/conformance/conformance_data.h, so only seeds and TensorFlow's outputs need to be stored.
"""

import random

import numpy as np

MASK = (1 << 64) - 1


def seeded_values(seed, count):
    """float64 values in [-1, 1): splitmix64 of (seed << 32) ^ index, top 53 bits."""
    z = (np.uint64((seed << 32) & MASK) ^ np.arange(count, dtype=np.uint64))
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53) * 2.0 - 1.0


def out_size(i, k, s, d, padding, pads=(0, 0)):
    k_eff = (k - 1) * d + 1
    if padding == "VALID":
        return int((i - k_eff + s) / s)  # truncation toward zero, as TensorFlow
    if padding == "SAME":
        return (i + s - 1) // s
    return int((i + pads[0] + pads[1] - k_eff + s) / s)


def make_case(source, n, h, w, c, fh, fw, m, stride, padding, dil=(1, 1), pads=None):
    """pads: ((top, bottom), (left, right)) for EXPLICIT."""
    pads = pads or ((0, 0), (0, 0))
    oh = out_size(h, fh, stride, dil[0], padding, pads[0])
    ow = out_size(w, fw, stride, dil[1], padding, pads[1])
    return dict(source=source, n=n, h=h, w=w, c=c, fh=fh, fw=fw, m=m, stride=stride, padding=padding,
                dil_h=dil[0], dil_w=dil[1], pad_top=pads[0][0], pad_bottom=pads[0][1], pad_left=pads[1][0],
                pad_right=pads[1][1], oh=oh, ow=ow)


def tf_kernel_test_configs():
    """../shared/TF_TEST_CONFIGS.md: (input NHWC, filter, stride, padding, dilations)."""
    plain = [
        ([4, 5, 5, 48], [1, 1, 48, 2], 1, "SAME", None),
        ([4, 8, 8, 84], [1, 3, 84, 1], 1, "SAME", None),
        ([4, 17, 17, 48], [3, 1, 48, 4], 1, "SAME", None),
        ([4, 9, 27, 8], [3, 3, 8, 1], 1, "SAME", None),
        ([4, 31, 31, 7], [3, 3, 7, 1], 1, "SAME", None),
        ([4, 35, 35, 2], [5, 5, 2, 1], 1, "SAME", None),
        ([4, 147, 147, 2], [3, 3, 2, 8], 3, "VALID", None),
        ([3, 299, 299, 3], [3, 2, 3, 8], 2, "SAME", None),
        ([5, 183, 183, 1], [5, 5, 1, 2], 2, "SAME", None),
        ([5, 183, 183, 1], [5, 5, 1, 2], 1, "SAME", [2, 2]),
        ([5, 41, 35, 2], [4, 7, 2, 2], 1, "VALID", [3, 2]),
        ([2, 5, 8, 1], [4, 4, 1, 2], 1, "SAME", None),
        ([4, 5, 5, 1], [2, 2, 1, 2], 2, "VALID", None),
        ([2, 4, 4, 2], [3, 1, 2, 2], 1, "SAME", None),
        ([1, 15, 15, 2], [1, 3, 2, 1], 1, "SAME", None),
        ([2, 15, 16, 1], [3, 3, 1, 2], 3, "VALID", None),
        ([2, 5, 8, 1], [4, 3, 1, 2], 1, "SAME", [1, 2]),
        ([1, 3, 1, 2], [2, 1, 2, 1], 1, "SAME", None),
        ([2, 2, 3, 2], [2, 1, 2, 1], 1, "SAME", None),
        ([2, 2, 3, 1], [2, 2, 1, 1], 1, "SAME", None),
    ]
    explicit = [
        ([4, 5, 5, 48], [1, 1, 48, 2], 1, [[1, 2], [3, 4]], None),
        ([4, 1, 1, 3], [3, 3, 3, 2], 1, [[10, 20], [15, 25]], None),
        ([4, 9, 27, 8], [3, 3, 8, 1], 1, [[3, 4], [4, 2]], None),
        ([4, 31, 31, 7], [3, 3, 7, 1], 1, [[0, 0], [0, 0]], None),
        ([3, 299, 299, 3], [3, 2, 3, 8], 2, [[1, 2], [3, 5]], None),
        ([5, 183, 183, 1], [5, 5, 1, 2], 3, [[3, 2], [1, 0]], None),
        ([5, 29, 31, 1], [5, 4, 1, 2], 1, [[3, 2], [1, 0]], [2, 3]),
        ([4, 5, 5, 48], [3, 3, 48, 1], 1, [[0, 2], [0, 2]], None),
        ([1, 8, 7, 2], [8, 7, 2, 1], 1, [[0, 7], [3, 3]], None),
        ([2, 4, 3, 2], [3, 2, 2, 1], 1, [[2, 0], [1, 0]], None),
        ([2, 5, 8, 1], [4, 4, 1, 2], 1, [[0, 1], [2, 3]], None),
        ([4, 5, 5, 1], [2, 2, 1, 2], 2, [[3, 1], [5, 0]], None),
        ([2, 4, 4, 2], [3, 1, 2, 2], 1, [[4, 1], [3, 4]], None),
        ([1, 15, 15, 2], [1, 3, 2, 1], 1, [[3, 0], [2, 8]], None),
        ([2, 15, 16, 1], [3, 3, 1, 2], 3, [[0, 0], [10, 0]], None),
        ([2, 5, 8, 1], [3, 4, 1, 2], 1, [[3, 1], [2, 3]], [2, 1]),
    ]
    cases = []
    for x, f, s, padding, dil in plain:
        cases.append(make_case("tf_configs", *x, f[0], f[1], f[3], s, padding, tuple(dil or (1, 1))))
    for x, f, s, pads, dil in explicit:
        if dil is not None:
            continue  # TensorFlow has no dilated EXPLICIT path to serve as the oracle
        cases.append(make_case("tf_configs_explicit", *x, f[0], f[1], f[3], s, "EXPLICIT", (1, 1), pads))
    return cases


def network_layers():
    """Depthwise layers of MobileNet V1/V2 and EfficientNet-B0 at small batch: (h, c, k, stride)."""
    v1 = [(112, 32, 3, 1), (112, 64, 3, 2), (56, 128, 3, 1), (56, 128, 3, 2), (28, 256, 3, 1), (28, 256, 3, 2),
          (14, 512, 3, 1), (14, 512, 3, 2), (7, 1024, 3, 1)]
    v2 = [(112, 32, 3, 1), (112, 96, 3, 2), (56, 144, 3, 1), (56, 144, 3, 2), (28, 192, 3, 1), (28, 192, 3, 2),
          (14, 384, 3, 1), (14, 576, 3, 1), (14, 576, 3, 2), (7, 960, 3, 1)]
    b0 = [(112, 32, 3, 1), (112, 96, 3, 2), (56, 144, 5, 2), (28, 240, 5, 1), (28, 240, 3, 2), (14, 480, 3, 1),
          (14, 480, 5, 1), (14, 672, 5, 1), (14, 672, 5, 2), (7, 1152, 5, 1), (7, 1152, 3, 1)]
    cases = []
    for name, layers in (("mobilenet_v1", v1), ("mobilenet_v2", v2), ("efficientnet_b0", b0)):
        for h, c, k, s in layers:
            n = 1 if h >= 56 else 2
            cases.append(make_case(name, n, h, h, c, k, k, 1, s, "SAME"))
    return cases


def random_cases(rng, count, source="random"):
    """Small cases over multipliers 1-4, strides 1-3, dilations 1-3 and every padding."""
    cases = []
    while len(cases) < count:
        n, h, w, c = rng.randint(1, 3), rng.randint(1, 17), rng.randint(1, 17), rng.randint(1, 9)
        fh, fw, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 4)
        padding = rng.choice(["SAME", "VALID", "EXPLICIT"])
        dilated = rng.random() < 0.35 and padding != "EXPLICIT"
        # TensorFlow's depthwise_conv2d cannot combine strides > 1 with dilation.
        stride = 1 if dilated else rng.randint(1, 3)
        dil = (rng.randint(1, 3), rng.randint(1, 3)) if dilated else (1, 1)
        pads = ((rng.randint(0, 3), rng.randint(0, 3)), (rng.randint(0, 3), rng.randint(0, 3)))
        case = make_case(source, n, h, w, c, fh, fw, m, stride, padding, dil, pads if padding == "EXPLICIT" else None)
        if case["oh"] < 0 or case["ow"] < 0:
            continue
        cases.append(case)
    return cases


def edge_cases():
    """Empty reductions (SPEC: a zero gradient) and a stride far larger than the input."""
    return [make_case("huge_stride", 1, 5, 5, 2, 3, 3, 1, 1 << 30, "VALID"),
            make_case("huge_stride", 2, 7, 6, 3, 2, 2, 2, 1 << 30, "SAME"),make_case("empty_batch", 0, 6, 6, 3, 3, 3, 2, 1, "SAME"),
            make_case("empty_batch", 0, 9, 7, 4, 2, 3, 1, 2, "VALID"),
            make_case("empty_output", 2, 2, 2, 2, 4, 4, 1, 3, "VALID")]


def all_cases(seed=2021):
    rng = random.Random(seed)
    cases = tf_kernel_test_configs() + network_layers() + random_cases(rng, 60) + edge_cases()
    out = []
    for dtype in ("float32", "float64"):
        for case in cases:
            out.append(dict(case, dtype=dtype))
    return out


# Malformed calls of the raw op: (name, input shape, filter_sizes value, filter_sizes shape,
# out_backprop shape, strides, padding, explicit_paddings, data_format, dtypes (input, out_backprop)).
def bad_cases():
    f = "float32"
    ok_x, ok_dy = [1, 5, 5, 2], [1, 5, 5, 2]
    return [
        ("strides_three", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("strides_unequal", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 2, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("strides_batch", ok_x, [3, 3, 2, 1], [4], ok_dy, [2, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("strides_depth", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 2], "SAME", [], "NHWC", (f, f)),
        ("strides_zero", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 0, 0, 1], "SAME", [], "NHWC", (f, f)),
        ("padding_unknown", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "FULL", [], "NHWC", (f, f)),
        ("explicit_six", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "EXPLICIT", [0, 0, 1, 1, 1, 1], "NHWC", (f, f)),
        ("explicit_negative", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "EXPLICIT", [0, 0, 1, -1, 1, 1, 0, 0],
         "NHWC", (f, f)),
        ("explicit_batch", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "EXPLICIT", [1, 0, 1, 1, 1, 1, 0, 0],
         "NHWC", (f, f)),
        ("explicit_with_same", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [0, 0, 1, 1, 1, 1, 0, 0],
         "NHWC", (f, f)),
        ("filter_sizes_matrix", ok_x, [3, 3, 2, 1], [2, 2], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("filter_sizes_negative", ok_x, [3, -3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("filter_sizes_three", ok_x, [3, 3, 2], [3], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("filter_sizes_huge", ok_x, [1879048192] * 13, [13], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("input_3d", [5, 5, 2], [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("input_scalar", [], [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("out_backprop_3d", ok_x, [3, 3, 2, 1], [4], [5, 5, 2], [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("batch_mismatch", ok_x, [3, 3, 2, 1], [4], [2, 5, 5, 2], [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("in_depth_mismatch", ok_x, [3, 3, 3, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("out_depth_mismatch", ok_x, [3, 3, 2, 2], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("rows_mismatch", ok_x, [3, 3, 2, 1], [4], [1, 4, 5, 2], [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("cols_mismatch", ok_x, [3, 3, 2, 1], [4], [1, 5, 6, 2], [1, 1, 1, 1], "SAME", [], "NHWC", (f, f)),
        ("negative_output", [1, 2, 2, 2], [4, 4, 2, 1], [4], [1, 0, 0, 2], [1, 1, 1, 1], "VALID", [], "NHWC", (f, f)),
        ("huge_stride_rows", ok_x, [3, 3, 2, 1], [4], [1, 2, 2, 2], [1, 1 << 30, 1 << 30, 1], "VALID", [], "NHWC",
         (f, f)),
        ("data_format_unknown", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NDHWC", (f, f)),
        ("dtype_mismatch", ok_x, [3, 3, 2, 1], [4], ok_dy, [1, 1, 1, 1], "SAME", [], "NHWC", (f, "float64")),
    ]
