"""The safe formula parser (anndesigner.data.formula) and the "formula" data set."""

import json
import math

import numpy as np
import pytest

from anndesigner.data import load_builtin, load_source
from anndesigner.data.builtin import BUILTIN_DATASETS, make_formula
from anndesigner.data.formula import MAX_DEPTH, MAX_LENGTH, FormulaError, parse
from anndesigner.errors import AnnError, DataError

X1 = np.array([-2.0, -0.5, 0.0, 0.25, 1.5, 3.0])
X2 = np.array([1.0, -1.0, 2.0, -0.75, 0.5, -3.0])


@pytest.mark.parametrize("text, expected", [
    ("x1*x2 > 0", (X1 * X2 > 0).astype(float)),
    ("x1 + 2*x2 - 3", X1 + 2 * X2 - 3),
    ("x1 / 4", X1 / 4),
    ("x1^2 + x2**2", X1**2 + X2**2),
    ("-x1^2", -(X1**2)),
    ("2^-1 + 0*x1", np.full(6, 0.5)),
    ("2^3^2 + 0*x1", np.full(6, 512.0)),
    ("(x1 + x2) * 2", (X1 + X2) * 2),
    ("--x1", X1),
    ("+x1", X1),
    ("1e-3 + .5 + 2. + 1E2", np.full(6, 0.001 + 0.5 + 2 + 100)),
    ("pi * e", np.full(6, math.pi * math.e)),
    ("sin(x1) + cos(x2) + tan(x1/10)", np.sin(X1) + np.cos(X2) + np.tan(X1 / 10)),
    ("exp(x2) + tanh(x1) + abs(x1)", np.exp(X2) + np.tanh(X1) + np.abs(X1)),
    ("sqrt(abs(x1)) + log(1 + x1^2)", np.sqrt(np.abs(X1)) + np.log(1 + X1**2)),
    ("sign(x1) + floor(x2)", np.sign(X1) + np.floor(X2)),
    ("min(x1, x2) + 10*max(x1, x2)", np.minimum(X1, X2) + 10 * np.maximum(X1, X2)),
    ("where(x1 > 0, x1, x2)", np.where(X1 > 0, X1, X2)),
    ("x1 < x2", (X1 < X2).astype(float)),
    ("x1 <= 0", (X1 <= 0).astype(float)),
    ("x1 >= 0.25", (X1 >= 0.25).astype(float)),
    ("x1 == 0", (X1 == 0).astype(float)),
    ("x1 != 0", (X1 != 0).astype(float)),
    ("x1 > 0 and x2 > 0", ((X1 > 0) & (X2 > 0)).astype(float)),
    ("x1 > 0 or x2 > 0", ((X1 > 0) | (X2 > 0)).astype(float)),
    ("not x1 > 0", (~(X1 > 0)).astype(float)),
    ("not x1 > 0 and x2 > 0", ((~(X1 > 0)) & (X2 > 0)).astype(float)),  # not binds tighter than and
    ("x1 > 0 or x2 > 0 and x1 > 1", ((X1 > 0) | ((X2 > 0) & (X1 > 1))).astype(float)),
    ("x1 + x2 > 1 == 1", ((X1 + X2 > 1) == 1).astype(float)),
    ("x₁ + X2", X1 + X2),
    ("X1*x₂", X1 * X2),
    ("  x1\t+\nx2 ", X1 + X2),
    ("SIN(x1) + Pi", np.sin(X1) + math.pi),
])
def test_values(text, expected):
    f = parse(text)
    assert f.text == text
    got = f.evaluate(X1, X2)
    assert got.dtype == np.float64 and got.shape == X1.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_variables_and_constant_formulas_broadcast():
    assert parse("x1*x2").variables == ("x1", "x2")
    assert parse("x2 + 1").variables == ("x2",)
    assert parse("3").variables == ()
    assert parse("3").evaluate(X1, X2).tolist() == [3.0] * 6
    assert parse("x1 + x2").evaluate(np.ones((2, 3)), np.ones(3)).shape == (2, 3)
    assert parse("x1").evaluate(X1).tolist() == X1.tolist()  # x2 defaults to 0


@pytest.mark.parametrize("text, problem, column", [
    ("x1 + y", "unknown name 'y'", 6),
    ("x1 + foo(x2)", "unknown function 'foo'", 6),
    ("sin x1", "needs its arguments in parentheses", 1),
    ("(x1 + x2", "missing ')'", 9),
    ("x1 + x2)", "unmatched ')'", 8),
    ("x1 +", "'+' needs a right-hand side", 4),
    ("* x1", "where a value is expected", 1),
    ("x1 x2", "unexpected name 'x2'", 4),
    ("2x1", "followed directly by 'x'", 2),
    ("1.2.3", "malformed number", 1),
    ("1e+", "no exponent digits", 1),
    ("1e999", "too large", 1),
    ("x1 = 0", "'=' is not an operator", 4),
    ("!x1", "'!' is not an operator", 1),
    ("x1 $ 2", "unexpected character '$'", 4),
    ("min(x1)", "min() takes 2 arguments, got 1", 1),
    ("sin(x1, x2)", "sin() takes 1 argument, got 2", 1),
    ("where(x1, x2)", "where() takes 3 arguments", 1),
    ("sin()", "takes 1 argument, got 0", 1),
    ("max(x1 x2)", "missing ')' after the arguments of max()", 8),
    ("and x1", "'and' needs a left-hand side", 1),
    ("x1 > 0 and", "'and' needs a right-hand side", 8),
    ("(", "formula ends where a value is expected", 2),
    ("()", "')' where a value is expected", 2),
])
def test_errors_name_problem_and_column(text, problem, column):
    with pytest.raises(FormulaError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, DataError) and isinstance(err, AnnError)
    assert problem in err.problem
    assert err.column == column
    lines = str(err).split("\n")
    assert lines[0] == f"{err.problem} at column {column}"
    assert lines[1] == "  " + " ".join(text.split("\n")).replace("\t", " ")
    assert lines[2] == "  " + " " * (column - 1) + "^"


def test_example_message_from_the_issue():
    with pytest.raises(FormulaError, match=r"unknown name 'y' .*at column 6\n  x1 \+ y\n       \^"):
        parse("x1 + y")


@pytest.mark.parametrize("bad", [None, 3, b"x1", ["x1"]])
def test_not_text(bad):
    with pytest.raises(FormulaError, match="must be text"):
        parse(bad)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty(text):
    with pytest.raises(FormulaError, match="empty"):
        parse(text)


def test_length_limit():
    ok = "+".join(["x1"] * ((MAX_LENGTH + 1) // 3))[:MAX_LENGTH].rstrip("+x")
    parse(ok)
    with pytest.raises(FormulaError, match=f"too long .*at most {MAX_LENGTH}"):
        parse("x1" + " " * MAX_LENGTH)


@pytest.mark.parametrize("opener, closer", [("(", ")"), ("sin(", ")"), ("-", ""), ("not ", ""), ("2^", "")])
def test_depth_limit(opener, closer):
    deep_ok = opener * (MAX_DEPTH - 2) + "x1" + closer * (MAX_DEPTH - 2)
    parse(deep_ok)
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse(opener * (MAX_DEPTH + 5) + "x1" + closer * (MAX_DEPTH + 5))


def test_long_flat_chain_is_fine():
    text = "+".join(["x1"] * 160)  # 479 characters, a left-deep tree of 160 nodes
    np.testing.assert_allclose(parse(text).evaluate(X1, X2), 160 * X1)


@pytest.mark.parametrize("text, count", [
    ("1 / x1", 1),            # x1 == 0 at one point
    ("log(x1)", 3),           # -2, -0.5 -> nan, 0 -> -inf
    ("sqrt(x2)", 3),          # three negative x2
    ("exp(1000 * x1)", 2),    # overflow at 1.5 and 3
    ("x1 / 0", 6),
])
def test_not_finite_at_evaluate(text, count):
    f = parse(text)
    with pytest.raises(FormulaError, match=f"not finite at {count} of 6 points"):
        f.evaluate(X1, X2)
    assert np.sum(~np.isfinite(f.evaluate(X1, X2, check=False))) == count


def test_mismatched_shapes():
    with pytest.raises(FormulaError, match="shape"):
        parse("x1 + x2").evaluate(np.ones(3), np.ones(4))


def test_never_uses_python_evaluation():
    # text that Python would run is refused by the tokenizer or the parser
    for text in ["__import__('os')", "x1.__class__", "[x1]", "lambda: 1", "x1 if x1 else x2", "'a'"]:
        with pytest.raises(FormulaError):
            parse(text)
    import inspect

    from anndesigner.data import formula

    src = inspect.getsource(formula)
    for word in ("eval(", "exec(", "compile(", "import ast", "literal_eval"):
        assert word not in src


# ------------------------------------------------------------------ the data set
def test_formula_data_set_is_registered():
    info = BUILTIN_DATASETS["formula"]
    assert info.defaults == {"n_samples": 200, "noise": 0.0, "seed": 0, "expression": "x1*x2 > 0", "range": 1.0}
    assert info.param("expression").kind == "str" and info.param("range").kind == "float"
    assert info.takes_features


def test_classification_labels_follow_the_formula():
    ds = load_builtin("formula", n_samples=500, seed=3, range=2.5)
    assert ds.task == "classification" and ds.classes == ["0", "1"] and ds.Y.shape == (500, 1)
    assert ds.input_names == ["x1", "x2"]
    assert np.all(np.abs(ds.X) <= 2.5)
    assert ds.X.min() < -2.0 and ds.X.max() > 2.0
    np.testing.assert_array_equal(ds.Y[:, 0], (ds.X[:, 0] * ds.X[:, 1] > 0).astype(np.float32))
    assert 0.35 < ds.Y.mean() < 0.65


def test_regression_when_values_are_not_0_1():
    ds = load_builtin("formula", expression="x1^2 + sin(3*x2)", n_samples=300, seed=1)
    assert ds.task == "regression" and ds.classes is None
    x = ds.X.astype(np.float64)
    np.testing.assert_allclose(ds.Y[:, 0], x[:, 0] ** 2 + np.sin(3 * x[:, 1]), rtol=1e-5, atol=1e-6)
    noisy = load_builtin("formula", expression="x1^2 + sin(3*x2)", n_samples=300, seed=1, noise=0.1)
    np.testing.assert_array_equal(noisy.X, ds.X)  # regression noise goes to the target
    assert 0.07 < float(np.std(noisy.Y - ds.Y)) < 0.13


def test_classification_noise_moves_the_inputs():
    a = load_builtin("formula", seed=2)
    b = load_builtin("formula", seed=2, noise=0.2)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert 0.15 < float(np.std(b.X - a.X)) < 0.25


def test_source_round_trip_through_json():
    ds = load_builtin("formula", expression="x1 > x2^2", n_samples=50, seed=9, range=3.0, standardize=True)
    src = json.loads(json.dumps(ds.source))
    assert src["params"] == {"n_samples": 50, "noise": 0.0, "seed": 9, "expression": "x1 > x2^2", "range": 3.0}
    again = load_source(src)
    np.testing.assert_array_equal(again.X, ds.X)
    np.testing.assert_array_equal(again.Y, ds.Y)


@pytest.mark.parametrize("params, match", [
    ({"expression": "x1 + y"}, "unknown name 'y'"),
    ({"expression": "log(x1)"}, "not finite at"),
    ({"expression": "exp(x1*100)", "range": 10.0}, "not finite|too large"),
    ({"expression": 5}, "must be text"),
    ({"range": 0.0}, "range must be"),
    ({"range": -1.0}, "range must be"),
    ({"range": float("nan")}, "range must be"),
    ({"range": True}, "range must be"),
    ({"n_samples": 0}, "n_samples"),
])
def test_bad_settings(params, match):
    with pytest.raises(DataError, match=match):
        make_formula(**params)
