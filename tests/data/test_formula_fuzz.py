"""Seeded fuzz of the formula parser: random text and random token soups always give a
Formula or a FormulaError (never another exception), quickly."""

import random
import time
import warnings

import numpy as np

from anndesigner.data.formula import MAX_LENGTH, Formula, FormulaError, parse

TOKENS = ["x1", "x2", "X1", "x₁", "x₂", "y", "pi", "e", "1", "0", "2.5", ".5", "1e-3", "1e308", "1e999", "3.",
          "+", "-", "*", "/", "^", "**", "<", "<=", ">", ">=", "==", "!=", "=", "!", "(", ")", ",", "and", "or",
          "not", "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "min", "max", "where", "sign", "floor",
          "foo", "__import__", "'", '"', ".", "[", "]", "@", "#", " ", "\t", "\n", "é", "\x00", "∞", "√"]
ALPHABET = "x12X₁₂ e.+-*/^()<>=!,andortsinxplgqwhe0123456789 \t\n$#@[]{}'\"\\_é∞\x00"

X1 = np.linspace(-3, 3, 17)
X2 = np.linspace(2, -2, 17)


def _check(text, stats):
    try:
        f = parse(text)
    except FormulaError as err:
        assert isinstance(err.problem, str) and err.problem
        if err.column is not None:
            assert 1 <= err.column <= len(text) + 1
        stats["refused"] += 1
        return
    assert isinstance(f, Formula) and f.text == text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning leaks out
        try:
            out = f.evaluate(X1, X2)
        except FormulaError:
            stats["not finite"] += 1
            return
    assert out.shape == X1.shape and np.all(np.isfinite(out))
    stats["parsed"] += 1


def _run(make, budget_s, n):
    stats = {"parsed": 0, "refused": 0, "not finite": 0}
    start = time.perf_counter()
    for i in range(n):
        _check(make(i), stats)
        if time.perf_counter() - start > budget_s:
            break
    return stats


def test_random_strings():
    rng = random.Random(1234)
    stats = _run(lambda i: "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40))), 1.0, 4000)
    assert stats["refused"] > 0 and sum(stats.values()) >= 500


def test_token_soups():
    rng = random.Random(99)

    def soup(i):
        return " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 25)))

    stats = _run(soup, 1.0, 4000)
    assert stats["refused"] > 0 and stats["parsed"] + stats["not finite"] > 0 and sum(stats.values()) >= 500


def test_well_formed_random_formulas():
    rng = random.Random(7)
    leaves = ["x1", "x2", "pi", "e", "2", "0.5", "1e-3"]
    unary = ["sin", "cos", "tanh", "abs", "exp", "log", "sqrt", "sign", "floor", "tan"]
    binary = ["+", "-", "*", "/", "^", "<", ">=", "==", "and", "or"]

    def build(depth):
        r = rng.random()
        if depth == 0 or r < 0.25:
            return rng.choice(leaves)
        if r < 0.45:
            return f"{rng.choice(unary)}({build(depth - 1)})"
        if r < 0.55:
            return f"-{build(depth - 1)}"
        if r < 0.62:
            return f"{rng.choice(['min', 'max'])}({build(depth - 1)}, {build(depth - 1)})"
        if r < 0.67:
            return f"where({build(depth - 1)}, {build(depth - 1)}, {build(depth - 1)})"
        return f"({build(depth - 1)} {rng.choice(binary)} {build(depth - 1)})"

    def make(i):
        text = build(rng.randint(1, 6))
        return text[:MAX_LENGTH] if rng.random() < 0.1 else text

    stats = _run(make, 0.8, 2000)
    assert stats["parsed"] > 50


def test_hostile_inputs_are_cheap():
    start = time.perf_counter()
    for text in ["(" * MAX_LENGTH, "-" * MAX_LENGTH, "2^" * 250, "x1" * 250, "x1+" * 166, "sin(" * 125,
                 "1" * MAX_LENGTH, "9" * 400, "1e" + "9" * 400, "x1" + " " * 10_000, "(" * 10**6]:
        try:
            parse(text)
        except FormulaError:
            pass
    assert time.perf_counter() - start < 0.5
