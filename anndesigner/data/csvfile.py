"""CSV import.

:func:`load_csv` reads a UTF-8 (optionally with BOM) text file with ``,``,
``;`` or tab separated cells into a :class:`Dataset`; :func:`read_csv_preview`
shows the first rows for an import dialog. Every problem raises
:class:`DataError` whose message names the file, and where possible the
1-based physical line (``.line``, counting the header) and the column name
(``.column``).

Rules
-----
* Blank lines, and lines whose cells are all empty, are ignored.
* ``header="auto"``: the first row is a header when some cell of it is not a
  number while the cell below it is one (a file with a single row is a
  header when none of its cells is a number). Without a header the columns
  are ``col1``, ``col2``, ... Empty header cells get the ``colN`` name,
  repeated names get ``_2``, ``_3`` appended.
* ``delimiter="auto"``: tab, then ``;``, then ``,`` -- the first that splits
  every sampled line into the same number (> 1) of cells; otherwise the one
  that occurs most; ``,`` for a single-column file.
* Numbers: plain decimal or exponent notation (``nan``/``inf`` are refused).
  When the delimiter is not ``,`` a decimal comma (``1,5``) is accepted too.
* ``task="auto"``: classification when the (single) target column has a
  non-numeric cell or only integer values with at most 10 distinct values;
  regression otherwise. Several target columns are always regression.
* Class labels are sorted (numerically when all are numbers; numeric labels
  are written canonically, ``"1.0"`` becomes ``"1"``). Two classes give a
  single 0/1 column, more give one-hot columns named ``target=label``.
* ``input_shape`` (e.g. ``(8, 8, 1)`` for 8×8 grey images, ``(20, 1)`` for
  sequences of 20 steps) says how each row's input values, in the chosen
  column order, form one sample; it must hold exactly as many values as there
  are input columns. It is stored in the source (``"input_shape"``, only when
  given) and becomes the data set's ``input_shape``.
"""

from __future__ import annotations

import os

import csv
import io
import math
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import DataError
from .dataset import Dataset, Standardizer, TASKS

MAX_AUTO_CLASSES = 10
_DELIMITERS = ("\t", ";", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SNIFF_LINES = 50


# ------------------------------------------------------------------- parsing
def _parse_number(cell: str, decimal_comma: bool) -> float | None:
    """The value of ``cell`` or ``None`` when it is not a (finite) number."""
    text = cell.strip()
    if decimal_comma and "," in text and "." not in text:
        text = text.replace(",", ".", 1)
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _is_number(cell: str, decimal_comma: bool = True) -> bool:
    return _parse_number(cell, decimal_comma) is not None


def _read_text(path: Path) -> str:
    label = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"file not found: {label}") from None
    except IsADirectoryError:
        raise DataError(f"{label} is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path.name}, line {line}: the file is not UTF-8 text "
            f"(undecodable byte 0x{raw[exc.start]:02x}); save it as UTF-8 CSV",
            line=line,
        ) from None


def _detect_delimiter(text: str) -> str:
    sample_lines = [ln for ln in text.splitlines() if ln.strip()][:_SNIFF_LINES]
    if not sample_lines:
        return ","
    sample = "\n".join(sample_lines)
    totals = {}
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=d) if r]
        # a quoted cell cut off at the end of the sample may give a short last row
        body = counts[:-1] if len(counts) > 1 else counts
        if body and body[0] > 1 and all(c == body[0] for c in body):
            return d
        totals[d] = sample.count(d)
    best = max(_DELIMITERS[::-1], key=lambda d: totals[d])  # ties -> comma first
    return best if totals[best] > 0 else ","


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the physical line number each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            rows.append((start, row))
    except csv.Error as exc:
        raise DataError(f"line {reader.line_num}: {exc}", line=reader.line_num) from None
    return rows


def _detect_header(rows: Sequence[tuple[int, list[str]]], decimal_comma: bool) -> bool:
    if not rows:
        return False
    first = rows[0][1]
    if len(rows) == 1:
        return not any(_is_number(c, decimal_comma) for c in first)
    second = rows[1][1]
    return any(
        not _is_number(a, decimal_comma) and _is_number(b, decimal_comma)
        for a, b in zip(first, second)
    )


def _column_names(header_row: list[str] | None, width: int) -> list[str]:
    if header_row is None:
        return [f"col{i + 1}" for i in range(width)]
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(header_row):
        base = cell.strip() or f"col{i + 1}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def _check_delimiter(delimiter: Any) -> str | None:
    if delimiter == "auto" or delimiter is None:
        return None
    if delimiter in ("tab", "\\t"):
        return "\t"
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataError(f"delimiter must be 'auto', ',', ';' or a tab, not {delimiter!r}")
    return delimiter


class _Table:
    """A decoded CSV: column names and data rows (with their line numbers)."""

    def __init__(self, path: Path, header: Any, delimiter: Any):
        self.path = path
        self.file = path.name
        text = _read_text(path)
        forced = _check_delimiter(delimiter)
        self.delimiter = forced if forced is not None else _detect_delimiter(text)
        self.decimal_comma = self.delimiter != ","
        rows = _rows(text, self.delimiter)
        if not rows:
            raise DataError(f"{self.file} is empty: it contains no data rows")
        if header == "auto":
            self.header = _detect_header(rows, self.decimal_comma)
        elif isinstance(header, bool):
            self.header = header
        else:
            raise DataError(f"header must be 'auto', true or false, not {header!r}")
        width = len(rows[0][1])
        self.names = _column_names(rows[0][1] if self.header else None, width)
        self.header_line = rows[0][0] if self.header else None
        self.rows = rows[1:] if self.header else rows

    def preview(self, max_rows: int) -> list[list[str]]:
        return [list(r) for _, r in self.rows[:max_rows]]

    def check_shape(self) -> None:
        if not self.rows:
            raise DataError(f"{self.file} has a header but no data rows", line=self.header_line)
        width = len(self.names)
        what = "the header has" if self.header else "the first row has"
        for line, row in self.rows:
            if len(row) != width:
                raise DataError(
                    f"{self.file}, line {line}: {len(row)} cells, but {what} {width} columns",
                    line=line,
                )

    def resolve(self, spec: Any, role: str) -> list[int]:
        """Column indices for a list of names / 0-based indices."""
        if isinstance(spec, (str, int)) and not isinstance(spec, bool):
            spec = [spec]
        if not isinstance(spec, (list, tuple)):
            raise DataError(f"{role} columns must be a list of names or indices, not {spec!r}")
        out: list[int] = []
        available = ", ".join(self.names)
        for item in spec:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not 0 <= item < len(self.names):
                    raise DataError(
                        f"{self.file}: missing {role} column index {item}; "
                        f"the file has {len(self.names)} columns: {available}",
                        column=int(item),
                    )
                idx = int(item)
            elif isinstance(item, str):
                if item not in self.names:
                    raise DataError(
                        f"{self.file}: missing {role} column '{item}'; available columns: {available}",
                        column=item,
                    )
                idx = self.names.index(item)
            else:
                raise DataError(f"{role} column must be a name or an index, not {item!r}")
            if idx in out:
                raise DataError(f"{role} column '{self.names[idx]}' is listed twice", column=self.names[idx])
            out.append(idx)
        return out

    def cell_error(self, line: int, col: int, cell: str) -> DataError:
        name = self.names[col]
        if not cell.strip():
            msg = f"{self.file}, line {line}, column '{name}': empty cell"
        else:
            msg = f"{self.file}, line {line}, column '{name}': '{cell.strip()}' is not a number"
        return DataError(msg, line=line, column=name)

    def numeric(self, cols: Iterable[int]) -> np.ndarray:
        cols = list(cols)
        out = np.empty((len(self.rows), len(cols)), dtype=np.float64)
        for i, (line, row) in enumerate(self.rows):
            for j, c in enumerate(cols):
                value = _parse_number(row[c], self.decimal_comma)
                if value is None:
                    raise self.cell_error(line, c, row[c])
                out[i, j] = value
        return out


# ------------------------------------------------------------------- classes
def _class_labels(table: _Table, col: int) -> tuple[list[str], bool]:
    """Raw labels of a target column (stripped) and whether all are numbers."""
    labels = []
    for line, row in table.rows:
        cell = row[col].strip()
        if not cell:
            raise table.cell_error(line, col, cell)
        labels.append(cell)
    numeric = all(_is_number(c, table.decimal_comma) for c in labels)
    if numeric:
        labels = [_canonical_number(_parse_number(c, table.decimal_comma)) for c in labels]
    return labels, numeric


def _canonical_number(value: float | None) -> str:
    assert value is not None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _sorted_classes(labels: Iterable[str], numeric: bool) -> list[str]:
    unique = set(labels)
    if numeric:
        return sorted(unique, key=float)
    return sorted(unique)


def _auto_task(table: _Table, target_cols: list[int]) -> str:
    if len(target_cols) != 1:
        return "regression"
    col = target_cols[0]
    values = set()
    for line, row in table.rows:
        value = _parse_number(row[col], table.decimal_comma)
        if value is None:
            if not row[col].strip():
                raise table.cell_error(line, col, row[col])
            return "classification"
        if value != int(value):
            return "regression"
        values.add(value)
    return "classification" if len(values) <= MAX_AUTO_CLASSES else "regression"


def _encode_classes(labels: list[str], classes: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    codes = np.array([index[lab] for lab in labels], dtype=np.int64)
    if len(classes) == 2:
        return codes.astype(np.float32).reshape(-1, 1)
    return np.eye(len(classes), dtype=np.float32)[codes]


# ------------------------------------------------------------------ load_csv
def load_csv(
    path: str | Path,
    inputs: Sequence[str | int] | None = None,
    targets: Sequence[str | int] | None = None,
    task: str = "auto",
    standardize: bool = True,
    header: bool | str = "auto",
    delimiter: str = "auto",
    *,
    classes: Sequence[str] | None = None,
    scaler: Standardizer | dict | None = None,
    input_shape: Sequence[int] | None = None,
) -> Dataset:
    """Read a CSV file into a :class:`Dataset` (see the module doc for the rules).

    ``inputs``/``targets`` are column names or 0-based indices (default: the
    last column is the target, every other column an input). ``classes`` fixes
    the class order (the file must then contain exactly these labels) and
    ``scaler`` reuses saved standardization statistics instead of fitting new
    ones; :func:`load_source` uses both to reproduce an earlier import.
    ``input_shape`` gives each sample's natural shape (see the module doc).
    """
    p = Path(path)
    if task not in ("auto", *TASKS):
        raise DataError(f"task must be 'auto', 'classification' or 'regression', not {task!r}")
    if not isinstance(standardize, bool):
        raise DataError(f"standardize must be true or false, not {standardize!r}")
    shape = check_sample_shape(input_shape)
    table = _Table(p, header, delimiter)
    table.check_shape()

    target_cols = table.resolve([len(table.names) - 1] if targets is None else targets, "target")
    if not target_cols:
        raise DataError(f"{table.file}: choose at least one target column")
    if inputs is None:
        input_cols = [i for i in range(len(table.names)) if i not in target_cols]
    else:
        input_cols = table.resolve(inputs, "input")
        both = [table.names[i] for i in input_cols if i in target_cols]
        if both:
            raise DataError(
                f"{table.file}: column '{both[0]}' cannot be both an input and a target", column=both[0]
            )
    if not input_cols:
        raise DataError(f"{table.file}: choose at least one input column (the file has only the target)")

    if shape is not None and math.prod(shape) != len(input_cols):
        raise DataError(
            f"{table.file}: the sample shape {_fmt_shape(shape)} holds {math.prod(shape):,} values "
            f"but {len(input_cols):,} input column{'' if len(input_cols) == 1 else 's'} "
            f"{'is' if len(input_cols) == 1 else 'are'} chosen"
        )
    X = table.numeric(input_cols)
    input_names = [table.names[i] for i in input_cols]
    target_names_raw = [table.names[i] for i in target_cols]

    if task == "auto":
        task = _auto_task(table, target_cols)
    if task == "classification":
        if len(target_cols) != 1:
            raise DataError(
                f"{table.file}: classification needs exactly one target column, got {len(target_cols)}"
            )
        labels, numeric = _class_labels(table, target_cols[0])
        found = _sorted_classes(labels, numeric)
        if classes is not None:
            wanted = [str(c) for c in classes]
            if set(found) != set(wanted) or len(set(wanted)) != len(wanted):
                raise DataError(
                    f"{table.file}: the classes in column '{target_names_raw[0]}' "
                    f"({', '.join(found)}) differ from the saved ones ({', '.join(wanted)})",
                    column=target_names_raw[0],
                )
            found = wanted
        if len(found) < 2:
            raise DataError(
                f"{table.file}: target column '{target_names_raw[0]}' has only one class "
                f"({found[0]}); classification needs at least two",
                column=target_names_raw[0],
            )
        Y = _encode_classes(labels, found)
        class_list: list[str] | None = found
        target_names = target_names_raw if len(found) == 2 else [f"{target_names_raw[0]}={c}" for c in found]
    else:
        if classes is not None:
            raise DataError("classes can only be given for classification")
        Y = table.numeric(target_cols)
        class_list = None
        target_names = target_names_raw

    fitted: Standardizer | None = None
    if standardize:
        if scaler is None:
            fitted = Standardizer.fit(X)
        else:
            fitted = scaler if isinstance(scaler, Standardizer) else Standardizer.from_dict(scaler)
            if fitted.n_features != X.shape[1]:
                raise DataError(
                    f"{table.file}: the saved standardization has {fitted.n_features} columns "
                    f"but {X.shape[1]} inputs were chosen"
                )
        X = fitted.transform(X)

    source = {
        "kind": "csv",
        "path": os.path.abspath(path),  # relative to its network file only when saved (source_for_file)
        "inputs": input_names,
        "targets": target_names_raw,
        "task": task,
        "standardize": standardize,
        "header": table.header,
        "delimiter": table.delimiter,
        "classes": None if class_list is None else list(class_list),
        "scaler": None if fitted is None else fitted.to_dict(),
    }
    if shape is not None:
        source["input_shape"] = list(shape)
    return Dataset(
        X=X,
        Y=Y,
        name=p.stem,
        task=task,
        input_names=input_names,
        target_names=target_names,
        classes=class_list,
        source=source,
        scaler=fitted,
        input_shape=shape,
    )


def _load_csv_source(source: dict, base_dir: str | Path | None) -> Dataset:
    """Reload a CSV data set from its ``source`` dict (used by ``load_source``)."""
    path = source.get("path")
    if not isinstance(path, str) or not path:
        raise DataError("CSV data source needs a 'path' string")
    p = Path(path)
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p

    def names(key: str) -> list[str] | None:
        value = source.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"CSV data source '{key}' must be a list of column names")
        return value

    inputs, targets, classes = names("inputs"), names("targets"), names("classes")
    task = source.get("task", "auto")
    standardize = source.get("standardize", True)
    header = source.get("header", "auto")
    delimiter = source.get("delimiter", "auto")
    if not isinstance(standardize, bool):
        raise DataError("CSV data source 'standardize' must be true or false")
    scaler = source.get("scaler")
    if scaler is not None:
        scaler = Standardizer.from_dict(scaler)
    input_shape = source.get("input_shape")
    if input_shape is not None and not isinstance(input_shape, list):
        raise DataError(f"CSV data source 'input_shape' must be a list of positive integers, not {input_shape!r}")
    if classes is not None and task != "classification":
        raise DataError("CSV data source has 'classes' but its task is not classification")
    return load_csv(
        p,
        inputs=inputs,
        targets=targets,
        task=task,
        standardize=standardize,
        header=header,
        delimiter=delimiter,
        classes=classes,
        scaler=scaler if standardize else None,
        input_shape=input_shape,
    )


# --------------------------------------------------------------- sample shape
def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def check_sample_shape(shape: Any) -> tuple[int, ...] | None:
    """``shape`` as a tuple of positive integers, or None for a flat sample (None or empty)."""
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)):
        raise DataError(f"the sample shape must be a list of positive integers, not {shape!r}")
    if not shape:
        return None
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise DataError(f"the sample shape must be a list of positive integers, not {list(shape)!r}")
        dims.append(int(d))
    return tuple(dims)


def parse_sample_shape(text: str) -> tuple[int, ...] | None:
    """``"8, 8, 1"`` (or ``"8x8x1"``, ``"8 8 1"``, ``"(8, 8, 1)"``) as ``(8, 8, 1)``; None for blank text.

    Raises :class:`DataError` with a readable message for anything else.
    """
    body = str(text).strip().strip("()[]").strip()
    if not body:
        return None
    parts = [p for p in re.split(r"[\s,;x×*]+", body) if p]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise DataError(f"sample shape '{text.strip()}' is not a list of whole numbers; write e.g. 8, 8, 1 "
                        "(height, width, channels) or 20, 1 (steps, features)")
    dims = tuple(int(p) for p in parts)
    if any(d < 1 for d in dims):
        raise DataError(f"sample shape '{text.strip()}' has a zero size; every size must be at least 1")
    return dims


# -------------------------------------------------------------------- preview
def read_csv_preview(path: str | Path, max_rows: int = 20) -> tuple[list[str], list[list[str]], bool]:
    """Column names, the first ``max_rows`` data rows (as strings) and whether a header was detected.

    Rows are returned as they are in the file (a ragged row is not an error here).
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise DataError(f"max_rows must be a non-negative integer, not {max_rows!r}")
    table = _Table(Path(path), "auto", "auto")
    return list(table.names), table.preview(max_rows), table.header


__all__ = ["load_csv", "read_csv_preview", "parse_sample_shape", "check_sample_shape", "MAX_AUTO_CLASSES"]
