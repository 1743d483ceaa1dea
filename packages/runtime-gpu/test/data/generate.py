"""Generates the JSON test vectors for runtime-gpu kernels with NumPy (float64 on float32-rounded inputs).

Run from this folder: python3 generate.py. Inputs come from a seeded generator and are rounded to
3 decimals, then to float32, so the expected values are exact float64 results for the stored inputs.
"""
import json

import numpy as np

rng = np.random.default_rng(20261204)


def values(*shape, low=-2.0, high=2.0):
    return np.round(rng.uniform(low, high, size=shape), 3).astype(np.float32).astype(np.float64)


def flat(array):
    # 9 significant digits identify a float32 input exactly and keep the file small.
    return [float(f"{v:.9g}") for v in np.asarray(array, dtype=np.float64).reshape(-1)]


def matmul_case(name, m, k, n, batch=None, shared_b=False, trans_a=False, trans_b=False, bias=False):
    batch_shape = [] if batch is None else [batch]
    a = values(*batch_shape, m, k)
    b = values(*([] if shared_b else batch_shape), k, n)
    stored_a = np.swapaxes(a, -1, -2) if trans_a else a
    stored_b = np.swapaxes(b, -1, -2) if trans_b else b
    expected = a @ b
    case = {
        "name": name,
        "a": {"shape": list(stored_a.shape), "data": flat(stored_a)},
        "b": {"shape": list(stored_b.shape), "data": flat(stored_b)},
        "transA": trans_a,
        "transB": trans_b,
        "expected": {"shape": list(expected.shape), "data": None},
    }
    if bias:
        bias_values = values(n)
        case["bias"] = {"shape": [n], "data": flat(bias_values)}
        expected = expected + bias_values
    case["expected"]["data"] = flat(expected)
    return case


matmul = [
    matmul_case("scalar 1x1x1", 1, 1, 1),
    matmul_case("row vector 1xN", 1, 7, 5),
    matmul_case("column vector Nx1", 6, 3, 1),
    matmul_case("primes 13x17x11", 13, 17, 11),
    matmul_case("off-tile 33x65x31", 33, 65, 31),
    matmul_case("K much larger 4x1000x3", 4, 1000, 3),
    matmul_case("aligned 64x64x64", 64, 64, 64),
    matmul_case("aligned 72x36x68", 72, 36, 68),
    matmul_case("transA 72x36x68", 72, 36, 68, trans_a=True),
    matmul_case("transA odd 37x19x23", 37, 19, 23, trans_a=True),
    matmul_case("transB 29x31x37", 29, 31, 37, trans_b=True),
    matmul_case("transA transB 21x18x15", 21, 18, 15, trans_a=True, trans_b=True),
    matmul_case("bias 9x10x12", 9, 10, 12, bias=True),
    matmul_case("bias transB 5x8x3", 5, 8, 3, trans_b=True, bias=True),
    matmul_case("batched 3x5x7x9", 5, 7, 9, batch=3),
    matmul_case("batched shared B 4x6x8x12", 6, 8, 12, batch=4, shared_b=True),
    matmul_case("batched transA transB 2x9x5x7", 9, 5, 7, batch=2, trans_a=True, trans_b=True),
]


def binary_case(op, shape_a, shape_b):
    a = values(*shape_a)
    b = values(*shape_b, low=0.5, high=2.0) if op == "div" else values(*shape_b)
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "max": np.maximum, "min": np.minimum}[op]
    expected = fn(a, b)
    return {
        "op": op,
        "a": {"shape": list(shape_a), "data": flat(a)},
        "b": {"shape": list(shape_b), "data": flat(b)},
        "expected": {"shape": list(expected.shape), "data": flat(expected)},
    }


binary = [
    binary_case("add", [2, 3], [2, 3]),
    binary_case("add", [2, 3], [3]),
    binary_case("mul", [4, 1], [1, 5]),
    binary_case("sub", [2, 1, 3], [2, 4, 1]),
    binary_case("div", [3, 4], [4]),
    binary_case("max", [5], [1]),
    binary_case("min", [1, 7], [6, 1]),
    binary_case("add", [1000], [1000]),
]

unary_inputs = values(40, low=-3.0, high=3.0)
positive_inputs = values(40, low=0.1, high=4.0)


def unary_case(op, x, fn):
    return {"op": op, "x": {"shape": [len(x)], "data": flat(x)}, "expected": {"shape": [len(x)], "data": flat(fn(x))}}


unary = [
    unary_case("neg", unary_inputs, np.negative),
    unary_case("abs", unary_inputs, np.abs),
    unary_case("exp", unary_inputs, np.exp),
    unary_case("log", positive_inputs, np.log),
    unary_case("sqrt", positive_inputs, np.sqrt),
    unary_case("rsqrt", positive_inputs, lambda v: 1 / np.sqrt(v)),
    unary_case("square", unary_inputs, np.square),
    unary_case("reciprocal", positive_inputs, np.reciprocal),
    unary_case("relu", unary_inputs, lambda v: np.maximum(v, 0)),
    unary_case("sigmoid", unary_inputs, lambda v: 1 / (1 + np.exp(-v))),
    unary_case("tanh", unary_inputs, np.tanh),
    unary_case("silu", unary_inputs, lambda v: v / (1 + np.exp(-v))),
]


def reduce_case(op, shape):
    x = values(*shape)
    fn = {"sum": lambda v: v.sum(-1), "max": lambda v: v.max(-1), "meanSquare": lambda v: (v * v).mean(-1)}[op]
    expected = fn(x)
    return {"op": op, "x": {"shape": list(shape), "data": flat(x)}, "expected": {"shape": list(expected.shape), "data": flat(expected)}}


reduce_rows = [
    reduce_case("sum", [3, 7]),
    reduce_case("max", [3, 7]),
    reduce_case("meanSquare", [3, 7]),
    reduce_case("sum", [1, 300]),
    reduce_case("max", [5, 1]),
    reduce_case("meanSquare", [2, 3, 129]),
]

with open("kernels.json", "w") as out:
    json.dump({"matmul": matmul, "binary": binary, "unary": unary, "reduceRows": reduce_rows}, out)
