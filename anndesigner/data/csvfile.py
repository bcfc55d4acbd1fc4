"""CSV import.

:func:`load_csv` reads a UTF-8 (optionally with BOM) text file with ``,``,
``;`` or tab separated cells into a :class:`Dataset`; :func:`read_csv_preview`
and :func:`preview_csv` show the first rows for an import dialog. Every
problem raises :class:`DataError` whose message names the file, and where
possible the 1-based physical line (``.line``, counting the header) and the
column name (``.column``).

Rules
-----
* Blank lines, and lines whose cells are all empty, are ignored.
  ``skip_rows=N`` drops the first N physical lines of the file before anything
  else (a title, comments); line numbers in messages still count them.
* ``header="auto"``: the first row is a header when some cell of it is not a
  number while the cell below it is one (a file with a single row is a
  header when none of its cells is a number). Without a header the columns
  are ``col1``, ``col2``, ... Empty header cells get the ``colN`` name,
  repeated names get ``_2``, ``_3`` appended. ``header=True``/``False``
  forces either.
* scikit-learn's layout (``header="sklearn"``, also recognized by ``"auto"``):
  a first row of counts and class names, ``150,4,setosa,versicolor,virginica``
  (150 rows, 4 features, then the class names), followed by rows of the
  features and an integer class 0, 1, ... The automatic choice takes it only
  when the counts match the file (as many data rows, features + 1 cells in
  each, every class a valid index). The class names become the labels in
  their given order; the columns are named after the data set's features for
  scikit-learn's iris, wine and breast-cancer files, else ``feature1``, ...
  and the target ``class``.
* ``delimiter="auto"``: tab, then ``;``, then ``,`` -- the first that splits
  every sampled line into the same number (> 1) of cells; otherwise the one
  that occurs most; ``,`` for a single-column file.
* Numbers: plain decimal or exponent notation (``nan``/``inf`` are refused).
  When the delimiter is not ``,`` a decimal comma (``1,5``) is accepted too.
  Standardization is computed in float64 and scales huge columns first, so
  values up to ±1.8e308 load; unstandardized inputs and regression targets
  must fit float32 (±3.4e38), or the message names the cell.
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

Limits
------
A network file names its CSV by path, so the reader must hold up against any
path. It opens only regular files (``os.stat`` first, then ``O_NONBLOCK`` so a
FIFO can never block, then ``fstat`` of the opened descriptor): a folder, a
device such as ``/dev/zero``, a FIFO or a socket is refused by name. The size
is checked before reading, and reading stops at the limit even if the file
grows meanwhile. The rows are parsed as a stream straight into float64 arrays
(no list of every cell), so memory stays within a few times the file's size.

* :data:`MAX_FILE_BYTES` -- 200 MB per file;
* :data:`MAX_CELLS` -- 25 million cells (rows × columns);
* :data:`MAX_COLUMNS` -- 10,000 columns;
* :data:`MAX_CELL_CHARS` -- 131,072 characters per cell (the ``csv`` module's
  field limit), :data:`MAX_LINE_BYTES` -- 8 MiB per physical line;
* :data:`MAX_CLASSES` -- 1,000 classes in a classification target;
* the preview reads at most :data:`PREVIEW_BYTES` (4 MiB) and the rows it shows.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
import stat
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import DataError
from .dataset import F32_MAX, Dataset, Standardizer, TASKS

MAX_AUTO_CLASSES = 10
MAX_FILE_BYTES = 200_000_000
MAX_CELLS = 25_000_000
MAX_COLUMNS = 10_000
MAX_CELL_CHARS = 131_072
MAX_LINE_BYTES = 8 * 2**20
MAX_CLASSES = 1_000
MAX_SKIP_ROWS = 1_000_000
PREVIEW_BYTES = 4 * 2**20
HEADERS = ("auto", True, False, "sklearn")
_DELIMITERS = ("\t", ";", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_SNIFF_LINES = 50
_SNIFF_CHARS = 2**20
_READ_CHUNK = 2**20

#: scikit-learn's shipped CSV files: (class names, feature count) -> (feature names, target name)
SKLEARN_NAMES: dict[tuple[tuple[str, ...], int], tuple[tuple[str, ...], str]] = {
    (("setosa", "versicolor", "virginica"), 4): (
        ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"), "species"),
    (("class_0", "class_1", "class_2"), 13): (
        ("alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
         "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines",
         "proline"), "class"),
    (("malignant", "benign"), 30): (
        (
            "mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean compactness",
            "mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension", "radius error",
            "texture error", "perimeter error", "area error", "smoothness error", "compactness error",
            "concavity error", "concave points error", "symmetry error", "fractal dimension error",
            "worst radius", "worst texture", "worst perimeter", "worst area", "worst smoothness",
            "worst compactness", "worst concavity", "worst concave points", "worst symmetry",
            "worst fractal dimension"), "diagnosis"),
}


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


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 10_000_000 else f"{n / 1e6:,.1f} MB"


# -------------------------------------------------------------- opening files
def _open_regular(path: Path):
    """``(binary file, size)`` of a regular file, never blocking on anything else."""
    label = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"file not found: {label}") from None
    except NotADirectoryError:
        raise DataError(f"file not found: {label} (a part of the path is not a folder)") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {label}: {getattr(exc, 'strerror', None) or exc}") from None
    _check_kind(st, label)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise DataError(f"{label} is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)  # the file opened may not be the one looked at (a path swapped meanwhile)
        _check_kind(st, label)
        if st.st_size > MAX_FILE_BYTES:
            raise DataError(f"{label} is {_mb(st.st_size)}; CSV files of at most {_mb(MAX_FILE_BYTES)} are read")
        return os.fdopen(fd, "rb", buffering=_READ_CHUNK), int(st.st_size)
    except BaseException:
        os.close(fd)
        raise


def _check_kind(st: os.stat_result, label: str) -> None:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise DataError(f"{label} is a folder, not a CSV file")
    if not stat.S_ISREG(mode):
        kind = ("a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise DataError(f"{label} is {kind}, not a CSV file; only regular files are read")


class _Lines:
    """The physical lines of a file, decoded one by one (a bad byte names its line).

    Lines end as Python's universal newlines do (``\\n``, ``\\r\\n`` or a lone ``\\r``).
    ``count`` is the number of physical lines read so far (skipped ones included);
    ``pending`` collects the lines since :meth:`row_done` (the text of the current row).
    ``budget`` bytes at most are read (the preview): the line that crosses it is
    dropped and ``truncated`` is set.
    """

    def __init__(self, f, file: str, label: str, skip: int, budget: int | None):
        self.f, self.file, self.label = f, file, label
        self.count = 0
        self.read = 0
        self.budget = budget
        self.truncated = False
        self.pending: list[str] = []
        self._queue: list[bytes] = []
        self._carry = b""  # the start of a line after the last lone CR of a cut read
        self._first = True
        for _ in range(skip):
            if self._next_bytes() is None:
                break

    def _next_bytes(self) -> bytes | None:
        if self._queue:
            self.count += 1
            return self._queue.pop()
        if self.truncated:
            return None
        carry, self._carry = self._carry, b""
        limit = MAX_LINE_BYTES + 1 - len(carry)
        if self.budget is not None:
            limit = min(limit, self.budget - self.read + 1)
            if limit <= 1:
                self.truncated = bool(carry) or bool(self.f.peek(1)[:1])
                return None
        chunk = self.f.readline(limit)
        self.read += len(chunk)
        if self.read > MAX_FILE_BYTES:
            raise DataError(f"{self.label} grew beyond {_mb(MAX_FILE_BYTES)} while being read")
        raw = carry + chunk
        if not raw:
            return None
        if len(chunk) == limit and not chunk.endswith(b"\n"):
            # cut: readline ends lines at LF only, so lines ending in lone CRs (classic Mac
            # files) come many at once; keep the whole ones and carry the rest over
            cr = raw.rfind(b"\r")
            if cr >= 0:
                if cr == len(raw) - 1 and self.f.peek(1)[:1] == b"\n":  # a CRLF cut in two
                    raw += self.f.read(1)
                    self.read += 1
                else:
                    raw, self._carry = raw[:cr + 1], raw[cr + 1:]
            elif self.budget is not None and self.read > self.budget:
                self.truncated = True
                return None
            else:
                raise DataError(f"{self.file}, line {self.count + 1}: the line is longer than "
                                f"{MAX_LINE_BYTES // 2**20} MiB; is this a CSV file?", line=self.count + 1)
        if self._first:
            self._first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
        body = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith(b"\n") else raw
        if b"\r" in body:  # a lone CR ends a line too
            parts = raw.splitlines(keepends=True)
            self._queue = parts[:0:-1]
            raw = parts[0]
        self.count += 1
        return raw

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self._next_bytes()
        if raw is None:
            raise StopIteration
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self.file}, line {self.count}: the file is not UTF-8 text "
                f"(undecodable byte 0x{raw[exc.start]:02x}); save it as UTF-8 CSV",
                line=self.count,
            ) from None
        self.pending.append(text)
        return text

    def row_done(self) -> None:
        self.pending.clear()


def _long_cell_column(text: str, delimiter: str) -> int:
    """0-based column of the first cell longer than MAX_CELL_CHARS in a row's text."""
    col, length, quoted = 0, 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            continue
        if ch == delimiter and not quoted:
            col, length = col + 1, 0
            continue
        length += 1
        if length > MAX_CELL_CHARS:
            return col
    return col


def _detect_delimiter(sample_lines: Sequence[str]) -> str:
    lines = [ln for ln in sample_lines if ln.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    totals = {}
    for d in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        except csv.Error:  # a cell too long for the sniffer: the reader reports it with its place
            counts = []
        # a quoted cell cut off at the end of the sample may give a short last row
        body = counts[:-1] if len(counts) > 1 else counts
        if body and body[0] > 1 and all(c == body[0] for c in body):
            return d
        totals[d] = sum(ln.count(d) for ln in lines)
    best = max(_DELIMITERS[::-1], key=lambda d: totals[d])  # ties -> comma first
    return best if totals[best] > 0 else ","


def _detect_header(first: list[str], second: list[str] | None, decimal_comma: bool) -> bool:
    if second is None:
        return not any(_is_number(c, decimal_comma) for c in first)
    return any(
        not _is_number(a, decimal_comma) and _is_number(b, decimal_comma)
        for a, b in zip(first, second)
    )


def _counts_layout(first: list[str], second: list[str] | None) -> tuple[int, int, list[str]] | None:
    """``(rows, features, class names)`` when ``first`` reads as scikit-learn's counts row
    and ``second`` has the cells it announces; else None."""
    if len(first) < 2:
        return None
    a, b = first[0].strip(), first[1].strip()
    if not (a.isascii() and a.isdigit() and b.isascii() and b.isdigit()) or len(a) > 12 or len(b) > 12:
        return None
    n, f = int(a), int(b)
    names = [c.strip() for c in first[2:]]
    if n < 1 or f < 1 or len(names) == 1 or any(not c for c in names) or len(set(names)) != len(names):
        return None
    if second is None or len(second) != f + 1:
        return None
    return n, f, names


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


def _check_header(header: Any) -> bool | str:
    if isinstance(header, bool) or header in ("auto", "sklearn"):
        return header
    raise DataError(f"header must be 'auto', true, false or 'sklearn', not {header!r}")


def _check_skip(skip_rows: Any) -> int:
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, (int, np.integer)) or \
            not 0 <= skip_rows <= MAX_SKIP_ROWS:
        raise DataError(f"skip_rows must be a whole number from 0 to {MAX_SKIP_ROWS:,}, not {skip_rows!r}")
    return int(skip_rows)


class _NotLayout(Exception):
    """The automatic choice took scikit-learn's layout, but the file does not match its counts."""


@dataclass
class _Layout:
    rows: int
    features: int
    classes: list[str]


class _Table:
    """An open CSV file: delimiter, header and column names from its first rows, and
    :meth:`rows`, the data rows with their physical line numbers, read as a stream."""

    def __init__(self, path: Path, header: Any = "auto", delimiter: Any = "auto", skip_rows: Any = 0, *,
                 budget: int | None = None, layout: bool = True):
        self.path = Path(path)
        self.file = self.path.name
        header = _check_header(header)
        forced = _check_delimiter(delimiter)
        self.skip = _check_skip(skip_rows)
        self._f, self.size = _open_regular(self.path)
        try:
            self._open(header, forced, budget, layout)
        except BaseException:
            self.close()
            raise

    def _open(self, header, forced, budget, layout) -> None:
        self._lines = lines = _Lines(self._f, self.file, str(self.path), self.skip, budget)
        sample: list[str] = []
        chars = 0
        nonblank = 0
        for ln in lines:
            sample.append(ln)
            chars += len(ln)
            nonblank += bool(ln.strip())
            if nonblank >= _SNIFF_LINES or chars >= _SNIFF_CHARS:
                break
        lines.pending.clear()
        self.delimiter = forced if forced is not None else _detect_delimiter(sample)
        self.decimal_comma = self.delimiter != ","
        self._reader = csv.reader(itertools.chain(_Replay(sample, lines), lines), delimiter=self.delimiter)
        self.names: list[str] = []  # known after the first rows (a cell error there names its column by number)
        self._iter = self._row_iter()
        first = next(self._iter, None)
        if first is None:
            raise DataError(f"{self.file} is empty: it contains no data rows")
        second = next(self._iter, None)
        width = len(first[1])
        self.layout: _Layout | None = None
        self.layout_guessed = False
        if header == "sklearn" or (header == "auto" and layout):
            found = _counts_layout(first[1], None if second is None else second[1])
            if found is not None:
                self.layout = _Layout(*found)
                self.layout_guessed = header == "auto"
            elif header == "sklearn":
                raise DataError(
                    f"{self.file}, line {first[0]}: the first row is not scikit-learn's counts row "
                    f"(rows, features, then the class names, e.g. 150,4,setosa,versicolor,virginica) "
                    f"followed by rows of features + 1 cells", line=first[0])
        if self.layout is not None:
            self.header: bool | str = "sklearn"
            known = SKLEARN_NAMES.get((tuple(self.layout.classes), self.layout.features))
            if known is not None:
                self.names = [*known[0], known[1]]
            else:
                self.names = [f"feature{i + 1}" for i in range(self.layout.features)] + ["class"]
            width = len(self.names)
        else:
            self.header = _detect_header(first[1], None if second is None else second[1], self.decimal_comma) \
                if header == "auto" else bool(header)
            self.names = _column_names(first[1] if self.header else None, width)
        if len(self.names) > MAX_COLUMNS:
            raise DataError(f"{self.file}, line {first[0]}: {len(self.names):,} columns; "
                            f"at most {MAX_COLUMNS:,} are read", line=first[0])
        self.header_line = first[0] if self.header else None
        head = ([] if self.header else [first]) + ([] if second is None else [second])
        self._rows = itertools.chain(head, self._iter)

    def _row_iter(self) -> Iterator[tuple[int, list[str]]]:
        reader, lines = self._reader, self._lines
        previous_end = self.skip
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._csv_error(exc) from None
            start = previous_end + 1
            previous_end = self.skip + reader.line_num
            lines.row_done()
            if not row or not any(c.strip() for c in row):
                continue
            yield start, row

    def _csv_error(self, exc: csv.Error) -> DataError:
        line = self.skip + self._reader.line_num
        text = "".join(self._lines.pending)
        if "field larger than field limit" in str(exc):
            col = _long_cell_column(text, self.delimiter)
            names = self.names
            if col < len(names):
                where = f"column '{names[col]}'"
                column: str | int = names[col]
            else:
                where, column = f"column {col + 1}", col + 1
            return DataError(f"{self.file}, line {line}, {where}: a cell longer than {MAX_CELL_CHARS:,} "
                             f"characters", line=line, column=column)
        return DataError(f"{self.file}, line {line}: {exc}", line=line)

    # ------------------------------------------------------------ reading
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows (non-blank), with the physical line each starts on."""
        return self._rows

    @property
    def truncated(self) -> bool:
        return self._lines.truncated

    def close(self) -> None:
        f = getattr(self, "_f", None)
        if f is not None:
            f.close()
            self._f = None

    def __enter__(self) -> "_Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def shape_error(self, line: int, row: list[str]) -> DataError:
        width = len(self.names)
        what = ("the header has" if self.header is True else "the first row has" if not self.header
                else f"the first row announces {self.layout.features} features + 1 class, so")
        return DataError(f"{self.file}, line {line}: {len(row)} cells, but {what} {width} columns", line=line)

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
        text = cell.strip()
        if not text:
            msg = f"{self.file}, line {line}, column '{name}': empty cell"
        else:
            shown = text if len(text) <= 40 else text[:37] + "…"
            msg = f"{self.file}, line {line}, column '{name}': '{shown}' is not a number"
        return DataError(msg, line=line, column=name)


class _Replay:
    """Iterates over already read ``lines`` again, recording each in the reader's ``pending``."""

    def __init__(self, lines: list[str], owner: _Lines):
        self._it = iter(lines)
        self._owner = owner

    def __iter__(self):
        return self

    def __next__(self) -> str:
        ln = next(self._it)
        self._owner.pending.append(ln)
        return ln


# ------------------------------------------------------------------- classes
def _canonical_number(value: float | None) -> str:
    assert value is not None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _encode_classes(codes: np.ndarray, k: int) -> np.ndarray:
    if k == 2:
        return codes.astype(np.float32).reshape(-1, 1)
    return np.eye(k, dtype=np.float32)[codes]


class _Columns:
    """The chosen columns of every data row, parsed while the file streams by."""

    def __init__(self, table: _Table, input_cols: list[int], target_cols: list[int], task: str):
        self.table = table
        self.input_cols = input_cols
        self.target_cols = target_cols
        self.lines = array("q")
        self.xs = array("d")
        self.ys = array("d")
        self.labels: dict[str, int] = {}  # raw label -> code, first seen first (a single target)
        self.codes = array("q")
        self.too_many_labels = False
        self.text_seen = False
        self.count = 0
        self._read(task)

    def _read(self, task: str) -> None:
        table = self.table
        width = len(table.names)
        max_rows = max(1, MAX_CELLS // width)
        match = _NUMBER.match
        dc = table.decimal_comma
        xs_append, ys_append, lines_append = self.xs.append, self.ys.append, self.lines.append
        input_cols = self.input_cols
        single = len(self.target_cols) == 1 and table.layout is None
        tcol = self.target_cols[0]
        track = single and task != "regression"
        labels, codes_append = self.labels, self.codes.append
        inf = math.inf
        count = 0
        for line, row in table.rows():
            if len(row) != width:
                if table.layout_guessed:
                    raise _NotLayout
                raise table.shape_error(line, row)
            count += 1
            if count > max_rows:
                raise DataError(f"{table.file}, line {line}: more than {MAX_CELLS:,} cells "
                                f"({max_rows:,} rows of {width:,} columns); the limit is {MAX_CELLS:,}", line=line)
            lines_append(line)
            for c in input_cols:
                t = row[c].strip()
                if dc and "," in t and "." not in t:
                    t = t.replace(",", ".", 1)
                if match(t) is None:
                    raise table.cell_error(line, c, row[c])
                v = float(t)
                if v == inf or v == -inf:
                    raise self._too_large(line, c, row[c])
                xs_append(v)
            if single:
                cell = row[tcol]
                t = cell.strip()
                if not t:
                    raise table.cell_error(line, tcol, cell)
                if track and not self.too_many_labels:
                    code = labels.get(t)
                    if code is None:
                        if len(labels) >= MAX_CLASSES:
                            self.too_many_labels = True
                        code = labels.setdefault(t, len(labels))
                    codes_append(code)
                n = t.replace(",", ".", 1) if dc and "," in t and "." not in t else t
                if match(n) is None:
                    if task == "regression":
                        raise table.cell_error(line, tcol, cell)
                    self.text_seen = True
                    ys_append(math.nan)
                else:
                    v = float(n)
                    if v == inf or v == -inf:
                        raise self._too_large(line, tcol, cell)
                    ys_append(v)
            else:
                for c in self.target_cols:
                    t = row[c].strip()
                    if dc and "," in t and "." not in t:
                        t = t.replace(",", ".", 1)
                    if match(t) is None:
                        if table.layout_guessed:
                            raise _NotLayout
                        raise table.cell_error(line, c, row[c])
                    v = float(t)
                    if v == inf or v == -inf:
                        raise self._too_large(line, c, row[c])
                    ys_append(v)
        self.count = count

    def _too_large(self, line: int, col: int, cell: str) -> DataError:
        name = self.table.names[col]
        return DataError(f"{self.table.file}, line {line}, column '{name}': '{cell.strip()[:40]}' is too large "
                         f"(beyond ±1.8e308)", line=line, column=name)

    def X(self) -> np.ndarray:
        return np.frombuffer(self.xs, dtype=np.float64).reshape(self.count, len(self.input_cols)) \
            if self.count else np.zeros((0, len(self.input_cols)))

    def Y(self) -> np.ndarray:
        return np.frombuffer(self.ys, dtype=np.float64).reshape(self.count, len(self.target_cols)) \
            if self.count else np.zeros((0, len(self.target_cols)))

    def cell_at(self, row: int, col: int) -> tuple[int, str]:
        """The file line of data row ``row`` and the name of input column ``col``."""
        return int(self.lines[row]), self.table.names[self.input_cols[col]]


def _first_outside(values: np.ndarray, bound: float) -> tuple[int, int] | None:
    """``(row, column)`` of the first value beyond ±bound (or not finite), or None."""
    bad = ~(np.abs(values) <= bound)
    if not bad.any():
        return None
    r, c = np.argwhere(bad)[0]
    return int(r), int(c)


def _class_indices(ys: np.ndarray, k: int) -> np.ndarray:
    """Which of ``ys`` are class indices 0 .. k-1 (scikit-learn's layout)."""
    return (ys == np.round(ys)) & (ys >= 0) & (ys < k)


def _classes_of(table: _Table, cols: _Columns, classes: Sequence[str] | None,
                layout: _Layout | None) -> tuple[np.ndarray, list[str]]:
    """The class code of every row and the class labels (in code order); ``layout`` is
    scikit-learn's counts row when the target is its class column."""
    name = table.names[cols.target_cols[0]]
    ys = cols.Y()[:, 0]
    if layout is not None:
        found = list(layout.classes)
        k = len(found)
        if k:  # without class names (counts only) the numbers are the labels, as below
            ok = _class_indices(ys, k)
            if not ok.all():
                i = int(np.argmin(ok))
                line = int(cols.lines[i])
                raise DataError(f"{table.file}, line {line}, column '{name}': class {_canonical_number(ys[i])} "
                                f"is not one of the {k} classes the first row names (0 to {k - 1})",
                                line=line, column=name)
            codes = ys.astype(np.int64)
    if layout is None or not layout.classes:
        if cols.text_seen:
            if cols.too_many_labels:
                raise DataError(f"{table.file}: column '{name}' has more than {MAX_CLASSES:,} different labels; "
                                "too many classes (choose regression, or another target)", column=name)
            raw = list(cols.labels)  # code order
            found = sorted(raw)
            order = {lab: i for i, lab in enumerate(found)}
            remap = np.array([order[lab] for lab in raw], dtype=np.int64)
            codes = remap[np.frombuffer(cols.codes, dtype=np.int64)]
        else:
            uniq, inverse = np.unique(ys, return_inverse=True)
            if len(uniq) > MAX_CLASSES:
                raise DataError(f"{table.file}: column '{name}' has {len(uniq):,} different values; more than "
                                f"{MAX_CLASSES:,} classes (choose regression)", column=name)
            found = [_canonical_number(float(u)) for u in uniq]
            codes = inverse.reshape(-1).astype(np.int64)
    if classes is not None:
        wanted = [str(c) for c in classes]
        if set(found) != set(wanted) or len(set(wanted)) != len(wanted):
            raise DataError(
                f"{table.file}: the classes in column '{name}' "
                f"({', '.join(found)}) differ from the saved ones ({', '.join(wanted)})",
                column=name,
            )
        position = {lab: i for i, lab in enumerate(wanted)}
        codes = np.array([position[lab] for lab in found], dtype=np.int64)[codes]
        found = wanted
    return codes, found


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
    skip_rows: int = 0,
    classes: Sequence[str] | None = None,
    scaler: Standardizer | dict | None = None,
    input_shape: Sequence[int] | None = None,
    max_bytes: int | None = None,
) -> Dataset:
    """Read a CSV file into a :class:`Dataset` (see the module doc for the rules and limits).

    ``inputs``/``targets`` are column names or 0-based indices (default: the
    last column is the target, every other column an input). ``header`` is
    ``"auto"``, True, False or ``"sklearn"``; ``skip_rows`` drops that many
    lines at the top first. ``classes`` fixes the class order (the file must
    then contain exactly these labels) and ``scaler`` reuses saved
    standardization statistics instead of fitting new ones; :func:`load_source`
    uses both to reproduce an earlier import. ``input_shape`` gives each
    sample's natural shape (see the module doc). ``max_bytes`` reads only the rows in
    the first ``max_bytes`` of the file (whole lines), as the preview does: a quick
    check of the choices on a large file, whose data set holds those rows only.
    """
    if task not in ("auto", *TASKS):
        raise DataError(f"task must be 'auto', 'classification' or 'regression', not {task!r}")
    if not isinstance(standardize, bool):
        raise DataError(f"standardize must be true or false, not {standardize!r}")
    shape = check_sample_shape(input_shape)
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1):
        raise DataError(f"max_bytes must be a positive whole number or None, not {max_bytes!r}")
    args = (path, inputs, targets, task, standardize, header, delimiter, skip_rows, classes, scaler, shape,
            max_bytes)
    try:
        return _load(*args, layout=True)
    except _NotLayout:  # the first row only looked like scikit-learn's counts
        return _load(*args, layout=False)


def _load(path, inputs, targets, task, standardize, header, delimiter, skip_rows, classes, scaler, shape,
          max_bytes, *, layout: bool) -> Dataset:
    p = Path(path)
    with _Table(p, header, delimiter, skip_rows, budget=max_bytes, layout=layout) as table:
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
        cols = _Columns(table, input_cols, target_cols, task)
    lay = table.layout
    if cols.count == 0:
        if table.layout_guessed:
            raise _NotLayout
        if table.truncated:
            raise DataError(f"{table.file}: no whole data row in the first {_mb(max_bytes)} read")
        raise DataError(f"{table.file} has a header but no data rows", line=table.header_line)
    if table.layout_guessed:
        ys = cols.Y()[:, 0]
        k = len(lay.classes)
        if (cols.count != lay.rows and not table.truncated) or (k and not _class_indices(ys, k).all()):
            raise _NotLayout
    input_names = [table.names[i] for i in input_cols]
    target_names_raw = [table.names[i] for i in target_cols]
    laid_out = lay is not None and len(target_cols) == 1 and target_cols[0] == len(table.names) - 1

    if task == "auto":
        if len(target_cols) != 1:
            task = "regression"
        elif laid_out and lay.classes:
            task = "classification"
        elif cols.text_seen:
            task = "classification"
        else:
            ys = cols.Y()[:, 0]
            whole = bool(np.all(ys == np.round(ys)))
            task = "classification" if whole and len(np.unique(ys)) <= MAX_AUTO_CLASSES else "regression"
    if task == "classification":
        if len(target_cols) != 1:
            raise DataError(
                f"{table.file}: classification needs exactly one target column, got {len(target_cols)}"
            )
        # another column than the class: its values are the labels
        codes, found = _classes_of(table, cols, classes, lay if laid_out else None)
        if len(found) < 2:
            raise DataError(
                f"{table.file}: target column '{target_names_raw[0]}' has only one class "
                f"({found[0] if found else 'none'}); classification needs at least two",
                column=target_names_raw[0],
            )
        Y = _encode_classes(codes, len(found))
        class_list: list[str] | None = found
        target_names = target_names_raw if len(found) == 2 else [f"{target_names_raw[0]}={c}" for c in found]
    else:
        if classes is not None:
            raise DataError("classes can only be given for classification")
        if cols.text_seen:  # task forced to regression after a text cell was met
            raise DataError(f"{table.file}: target column '{target_names_raw[0]}' has text; "
                            "regression needs numbers", column=target_names_raw[0])
        Y = cols.Y()
        bad = _first_outside(Y, F32_MAX)
        if bad is not None:
            r, c = bad
            line, name = int(cols.lines[r]), target_names_raw[c]
            raise DataError(f"{table.file}, line {line}, column '{name}': the target {Y[r, c]:.4g} is too large "
                            f"for the network (at most ±3.4e38); rescale the column", line=line, column=name)
        Y = Y.astype(np.float32)
        class_list = None
        target_names = target_names_raw

    X = cols.X()
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
        try:
            X = fitted.transform(X)
        except DataError as e:
            if e.line is None or not isinstance(e.column, int):
                raise
            line, name = cols.cell_at(e.line - 1, e.column - 1)
            raise DataError(f"{table.file}, line {line}, column '{name}': the value is too far from the saved "
                            f"standardization (mean {fitted.mean[e.column - 1]:.4g}, standard deviation "
                            f"{fitted.std[e.column - 1]:.4g}) to fit the network", line=line, column=name) from None
    else:
        bad = _first_outside(X, F32_MAX)
        if bad is not None:
            line, name = cols.cell_at(*bad)
            raise DataError(f"{table.file}, line {line}, column '{name}': {X[bad]:.4g} is too large for the "
                            f"network (at most ±3.4e38); standardize the inputs", line=line, column=name)
        X = X.astype(np.float32)
    del cols

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
    if table.skip:
        source["skip_rows"] = table.skip
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


def load_csv_source(source: dict, base_dir: str | Path | None = None, **choices: Any) -> Dataset:
    """Reload a CSV data set from its ``source`` dict (``load_source`` does, for a CSV source);
    ``choices`` are :func:`load_csv` keywords that replace the saved ones (e.g.
    ``standardize=False, scaler=None`` to switch the scaling). A relative path is taken
    from ``base_dir``."""
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
    skip_rows = source.get("skip_rows", 0)
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
    saved = dict(inputs=inputs, targets=targets, task=task, standardize=standardize, header=header,
                 delimiter=delimiter, skip_rows=skip_rows, classes=classes,
                 scaler=scaler if standardize else None, input_shape=input_shape)
    return load_csv(p, **{**saved, **choices})


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
@dataclass
class CsvPreview:
    """The first rows of a CSV file as :func:`preview_csv` read them.

    ``rows`` are the data rows as strings (a ragged row is not an error here),
    ``lines`` the physical line each starts on. ``header`` is True, False or
    ``"sklearn"``; ``layout`` is ``(rows, features, class names)`` for
    scikit-learn's layout. ``complete`` says whether the whole file was read
    (then ``n_rows`` is its number of data rows, else None).
    """

    names: list[str]
    rows: list[list[str]]
    lines: list[int]
    header: bool | str
    delimiter: str
    layout: tuple[int, int, list[str]] | None = None
    complete: bool = False
    n_rows: int | None = None
    size: int = 0
    notes: list[str] = field(default_factory=list)


def preview_csv(path: str | Path, max_rows: int = 20, header: bool | str = "auto", delimiter: str = "auto",
                skip_rows: int = 0) -> CsvPreview:
    """The first ``max_rows`` data rows with the header, delimiter and layout :func:`load_csv`
    would use for the same choices; reads at most :data:`PREVIEW_BYTES` of the file."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise DataError(f"max_rows must be a non-negative integer, not {max_rows!r}")
    for layout in (True, False):
        with _Table(Path(path), header, delimiter, skip_rows, budget=PREVIEW_BYTES, layout=layout) as table:
            rows, lines = [], []
            count = 0
            ragged = False
            for line, row in table.rows():
                count += 1
                if len(row) != len(table.names):
                    ragged = True
                if len(rows) < max_rows:
                    rows.append(list(row))
                    lines.append(line)
            complete = not table.truncated
            lay = table.layout
            if table.layout_guessed and complete and (ragged or count != lay.rows):
                continue  # the whole file is here and does not match the counts row
        notes = []
        if lay is not None:
            notes.append(f"scikit-learn layout: the first row gives {lay.rows:,} rows and "
                         f"{_plural(lay.features, 'feature')}" +
                         (f", classes {', '.join(lay.classes)}" if lay.classes else ""))
        if table.skip:
            notes.append(f"{_plural(table.skip, 'line')} skipped at the top")
        return CsvPreview(names=list(table.names), rows=rows, lines=lines, header=table.header,
                          delimiter=table.delimiter,
                          layout=None if lay is None else (lay.rows, lay.features, list(lay.classes)),
                          complete=complete, n_rows=count if complete else None, size=table.size, notes=notes)
    raise AssertionError("unreachable")  # pragma: no cover


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def read_csv_preview(path: str | Path, max_rows: int = 20) -> tuple[list[str], list[list[str]], bool]:
    """Column names, the first ``max_rows`` data rows (as strings) and whether the first row
    was not data (a header, or scikit-learn's counts row). Reads only the start of the file
    (at most :data:`PREVIEW_BYTES`). Rows are returned as they are in the file (a ragged row
    is not an error here)."""
    p = preview_csv(path, max_rows)
    return p.names, p.rows, bool(p.header)


__all__ = ["load_csv", "load_csv_source", "read_csv_preview", "preview_csv", "CsvPreview", "parse_sample_shape",
           "check_sample_shape", "MAX_AUTO_CLASSES", "MAX_FILE_BYTES", "MAX_CELLS", "MAX_COLUMNS", "MAX_CELL_CHARS",
           "MAX_LINE_BYTES", "MAX_CLASSES", "PREVIEW_BYTES", "HEADERS"]
