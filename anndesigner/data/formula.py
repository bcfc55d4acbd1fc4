"""A small, safe formula language over the two inputs ``x1`` and ``x2``.

:func:`parse` reads text such as ``"x1*x2 > 0"`` or ``"sin(3*x1) + x2^2"`` with
its own tokenizer and a precedence-climbing parser; nothing of the text is ever
handed to ``eval``, ``exec``, ``compile`` or ``ast``. The result is a
:class:`Formula` that evaluates element-wise on NumPy arrays.

Grammar, loosest first: ``or``, ``and``, ``not``, comparisons (``< <= > >= ==
!=``, giving 0 or 1), ``+ -``, ``* /``, unary ``-``/``+``, powers (``^`` or
``**``, right-associative, so ``-x1^2`` is ``-(x1^2)`` and ``2^-1`` is 0.5),
then numbers (``3``, ``.5``, ``1e-3``), the variables ``x1`` ``x2`` (also
``X1``, ``x₁``), the constants ``pi`` and ``e``, parentheses and the functions
``sin cos tan exp log sqrt abs tanh sign floor`` (one argument), ``min max``
(two) and ``where(c, a, b)`` (three). Any non-zero value counts as true.

Hostile input stays cheap: at most :data:`MAX_LENGTH` characters and
:data:`MAX_DEPTH` levels of nesting. Every mistake raises :class:`FormulaError`
naming the problem and its 1-based column, with the text and a caret below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import DataError

__all__ = ["Formula", "FormulaError", "parse", "MAX_LENGTH", "MAX_DEPTH", "FUNCTIONS", "CONSTANTS", "VARIABLES"]

MAX_LENGTH = 500
MAX_DEPTH = 50

VARIABLES = ("x1", "x2")
CONSTANTS = {"pi": math.pi, "e": math.e}

_Fn = Callable[..., np.ndarray]


def _sign(a):
    return np.sign(a)


#: name -> (number of arguments, element-wise function)
FUNCTIONS: dict[str, tuple[int, _Fn]] = {
    "sin": (1, np.sin),
    "cos": (1, np.cos),
    "tan": (1, np.tan),
    "exp": (1, np.exp),
    "log": (1, np.log),
    "sqrt": (1, np.sqrt),
    "abs": (1, np.abs),
    "tanh": (1, np.tanh),
    "sign": (1, _sign),
    "floor": (1, np.floor),
    "min": (2, np.minimum),
    "max": (2, np.maximum),
    "where": (3, lambda c, a, b: np.where(c != 0, a, b)),
}

_KEYWORDS = ("and", "or", "not")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_OPERATORS = ("**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "<", ">", "(", ")", ",")


class FormulaError(DataError):
    """A formula that cannot be read or evaluated. ``column`` is the 1-based
    position of the problem in the text (None for a problem of the values);
    ``problem`` is the message without the position."""

    def __init__(self, problem: str, text: str | None = None, column: int | None = None):
        message = problem
        if column is not None and text is not None:
            shown = "".join(" " if ch in "\t\r\n\v\f" else ch for ch in text)
            message = f"{problem} at column {column}\n  {shown}\n  {' ' * (column - 1)}^"
        elif column is not None:
            message = f"{problem} at column {column}"
        super().__init__(message, column=column)
        self.problem = problem
        self.text = text


# ------------------------------------------------------------------ tokenizer
@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "name", "op", "end"
    value: Any
    col: int  # 1-based


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or _is_digit(ch) or ch in "₀₁₂₃₄₅₆₇₈₉"


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        col = i + 1
        if _is_digit(ch) or (ch == "." and i + 1 < n and _is_digit(text[i + 1])):
            j = i
            while j < n and _is_digit(text[j]):
                j += 1
            if j < n and text[j] == ".":
                j += 1
                while j < n and _is_digit(text[j]):
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and _is_digit(text[k]):
                    while k < n and _is_digit(text[k]):
                        k += 1
                    j = k
                else:
                    raise FormulaError(f"number {text[i:k]!r} has no exponent digits", text, col)
            if j < n and text[j] == ".":
                raise FormulaError(f"malformed number {text[i:j + 1]!r}", text, col)
            if j < n and _is_name_char(text[j]):
                raise FormulaError(f"number {text[i:j]!r} is followed directly by {text[j]!r} "
                                   f"(write {text[i:j]}*{text[j]}… for a product)", text, j + 1)
            value = float(text[i:j])
            if not math.isfinite(value):
                raise FormulaError(f"number {text[i:j]!r} is too large", text, col)
            toks.append(_Tok("num", value, col))
            i = j
            continue
        if _is_name_start(ch) or ch in "₀₁₂₃₄₅₆₇₈₉":
            j = i
            while j < n and _is_name_char(text[j]):
                j += 1
            toks.append(_Tok("name", text[i:j], col))
            i = j
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                toks.append(_Tok("op", "^" if op == "**" else op, col))
                i += len(op)
                break
        else:
            if ch == "=":
                raise FormulaError("'=' is not an operator (use '==' to compare)", text, col)
            if ch == "!":
                raise FormulaError("'!' is not an operator (use 'not' or '!=')", text, col)
            raise FormulaError(f"unexpected character {ch!r}", text, col)
    toks.append(_Tok("end", None, n + 1))
    return toks


# --------------------------------------------------------------------- parser
# A node is a tuple: ("num", value) | ("var", index) | ("call", fn, args) | ("op", symbol, a, b)
# | ("neg", a) | ("not", a).

_BINARY = {  # symbol -> (precedence, right-associative)
    "or": (1, False),
    "and": (2, False),
    # 3: prefix "not"
    "<": (4, False), "<=": (4, False), ">": (4, False), ">=": (4, False), "==": (4, False), "!=": (4, False),
    "+": (5, False), "-": (5, False),
    "*": (6, False), "/": (6, False),
    # 7: prefix "-" / "+"
    "^": (8, True),
}
_NOT_PREC = 3
_NEG_PREC = 7


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.variables: set[str] = set()

    def error(self, problem: str, tok: _Tok) -> FormulaError:
        return FormulaError(problem, self.text, tok.col)

    @property
    def tok(self) -> _Tok:
        return self.toks[self.pos]

    def describe(self, tok: _Tok) -> str:
        if tok.kind == "end":
            return "end of formula"
        if tok.kind == "num":
            return f"number {tok.value:g}"
        if tok.kind == "name":
            return f"name {tok.value!r}"
        return f"{tok.value!r}"

    def binary_symbol(self, tok: _Tok) -> str | None:
        if tok.kind == "op" and tok.value in _BINARY:
            return tok.value
        if tok.kind == "name" and tok.value.lower() in ("and", "or"):
            return tok.value.lower()
        return None

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"formula is nested too deeply (more than {MAX_DEPTH} levels)", tok)

    def parse(self):
        node = self.expr(0)
        if self.tok.kind != "end":
            t = self.tok
            if t.value == ")":
                raise self.error("unmatched ')'", t)
            raise self.error(f"unexpected {self.describe(t)} (an operator is missing?)", t)
        return node

    def expr(self, min_prec: int):
        start = self.tok
        self.enter(start)
        left = self.prefix()
        while True:
            sym = self.binary_symbol(self.tok)
            if sym is None:
                break
            prec, right_assoc = _BINARY[sym]
            if prec < min_prec:
                break
            op_tok = self.tok
            self.pos += 1
            if self.tok.kind == "end":
                raise self.error(f"{sym!r} needs a right-hand side", op_tok)
            right = self.expr(prec if right_assoc else prec + 1)
            left = ("op", sym, left, right)
        self.depth -= 1
        return left

    def prefix(self):
        t = self.tok
        if t.kind == "op" and t.value in ("-", "+"):
            self.pos += 1
            operand = self.expr(_NEG_PREC)
            return ("neg", operand) if t.value == "-" else operand
        if t.kind == "name" and t.value.lower() == "not":
            self.pos += 1
            return ("not", self.expr(_NOT_PREC))
        return self.atom()

    def atom(self):
        t = self.tok
        if t.kind == "num":
            self.pos += 1
            return ("num", t.value)
        if t.kind == "op" and t.value == "(":
            self.pos += 1
            inner = self.expr(0)
            if self.tok.value != ")" or self.tok.kind != "op":
                raise self.error(f"missing ')' for the '(' at column {t.col}; found {self.describe(self.tok)}",
                                 self.tok)
            self.pos += 1
            return inner
        if t.kind == "name":
            name = t.value.translate(_SUBSCRIPTS).lower()
            self.pos += 1
            nxt = self.tok
            if nxt.kind == "op" and nxt.value == "(":
                if name not in FUNCTIONS:
                    raise self.error(f"unknown function {t.value!r} (known: {', '.join(FUNCTIONS)})", t)
                return self.call(name, t)
            if name in FUNCTIONS:
                raise self.error(f"function {t.value!r} needs its arguments in parentheses", t)
            if name in VARIABLES:
                self.variables.add(name)
                return ("var", VARIABLES.index(name))
            if name in CONSTANTS:
                return ("num", CONSTANTS[name])
            if name in _KEYWORDS:
                raise self.error(f"{t.value!r} needs a left-hand side", t)
            raise self.error(f"unknown name {t.value!r} (use x1, x2, pi, e)", t)
        if t.kind == "end":
            raise self.error("formula ends where a value is expected", t)
        if t.value == ")":
            raise self.error("')' where a value is expected", t)
        raise self.error(f"{self.describe(t)} where a value is expected", t)

    def call(self, name: str, name_tok: _Tok):
        arity, _ = FUNCTIONS[name]
        self.pos += 1  # "("
        args = []
        if not (self.tok.kind == "op" and self.tok.value == ")"):
            while True:
                args.append(self.expr(0))
                if self.tok.kind == "op" and self.tok.value == ",":
                    self.pos += 1
                    continue
                break
        if not (self.tok.kind == "op" and self.tok.value == ")"):
            raise self.error(f"missing ')' after the arguments of {name}(); found {self.describe(self.tok)}",
                             self.tok)
        self.pos += 1
        if len(args) != arity:
            raise self.error(f"{name}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(args)}",
                             name_tok)
        return ("call", name, tuple(args))


# ----------------------------------------------------------------- evaluation
def _truth(a: np.ndarray) -> np.ndarray:
    return a != 0


def _value(node, xs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    kind = node[0]
    if kind == "num":
        return np.float64(node[1])
    if kind == "var":
        return xs[node[1]]
    if kind == "neg":
        return -_value(node[1], xs)
    if kind == "not":
        return (~_truth(_value(node[1], xs))).astype(np.float64)
    if kind == "call":
        fn = FUNCTIONS[node[1]][1]
        return np.asarray(fn(*[_value(a, xs) for a in node[2]]), dtype=np.float64)
    sym, a, b = node[1], _value(node[2], xs), _value(node[3], xs)
    if sym == "+":
        return a + b
    if sym == "-":
        return a - b
    if sym == "*":
        return a * b
    if sym == "/":
        return np.divide(a, b)
    if sym == "^":
        return np.power(np.asarray(a, dtype=np.float64), b)
    if sym == "<":
        r = a < b
    elif sym == "<=":
        r = a <= b
    elif sym == ">":
        r = a > b
    elif sym == ">=":
        r = a >= b
    elif sym == "==":
        r = a == b
    elif sym == "!=":
        r = a != b
    elif sym == "and":
        r = _truth(a) & _truth(b)
    elif sym == "or":
        r = _truth(a) | _truth(b)
    else:  # pragma: no cover - the parser makes no other node
        raise AssertionError(sym)
    return np.asarray(r, dtype=np.float64)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: ``text`` as written, ``variables`` (the inputs it uses,
    a tuple in the order x1, x2) and :meth:`evaluate`."""

    text: str
    variables: tuple[str, ...]
    _tree: Any

    def evaluate(self, x1: Any, x2: Any = None, *, check: bool = True) -> np.ndarray:
        """The formula's value at every point ``(x1[i], x2[i])`` (float64, the broadcast
        shape of both). With ``check`` a :class:`FormulaError` says at how many points the
        value is not finite (a division by zero, the log of a negative number, ...)."""
        a = np.asarray(x1, dtype=np.float64)
        b = np.zeros_like(a) if x2 is None else np.asarray(x2, dtype=np.float64)
        try:
            a, b = np.broadcast_arrays(a, b)
        except ValueError:
            raise FormulaError(f"x1 has shape {a.shape} but x2 has shape {b.shape}") from None
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(_value(self._tree, (a, b)), dtype=np.float64), a.shape).copy()
        if check:
            bad = ~np.isfinite(out)
            if bad.any():
                k = int(np.argmax(bad.reshape(-1)))
                where = (f"; the first is x1={a.reshape(-1)[k]:.6g}, x2={b.reshape(-1)[k]:.6g}"
                         f" (value {out.reshape(-1)[k]})" if a.size else "")
                raise FormulaError(f"formula {self.text!r} is not finite at {int(bad.sum())} of {out.size} "
                                   f"points (division by zero, log or sqrt of a negative number, overflow?){where}")
        return out


def parse(text: Any) -> Formula:
    """Parse ``text`` into a :class:`Formula`; raises :class:`FormulaError`."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        raise FormulaError("formula is empty")
    p = _Parser(text)
    tree = p.parse()
    return Formula(text, tuple(v for v in VARIABLES if v in p.variables), tree)
