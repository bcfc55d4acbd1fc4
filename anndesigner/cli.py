"""Command line: ``anndesigner [FILE]`` opens the designer;
``anndesigner train FILE``, ``anndesigner info FILE``, ``anndesigner explain FILE --sample N``,
``anndesigner predict FILE --data CSV``, ``anndesigner evaluate FILE --data CSV``,
``anndesigner export FILE --to FORMAT -o OUT``, ``anndesigner import MODEL -o NET.ann`` and
``anndesigner diff A.ann B.ann`` work headless.

User mistakes print one clear line and exit with status 1 (2 for an export or import
that cannot be done); no tracebacks. ``diff`` exits like diff(1): 0 when the networks are
the same, 1 when they differ, 2 (and one line) for a file that cannot be read.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Sequence

from ._version import __version__
from .errors import AnnError

COMMANDS = ("train", "info", "explain", "predict", "evaluate", "export", "import", "diff", "gui")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="anndesigner",
        description="Design, train and understand neural networks. Without a command, opens the designer.",
        epilog="Run 'anndesigner COMMAND --help' for a command's options.",
    )
    p.add_argument("--version", action="version", version=f"ANN Designer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the designer window (the default)")
    gui.add_argument("file", nargs="?", help="a .ann network file to open")
    tr = sub.add_parser("train", help="train a network file without the window")
    tr.add_argument("file", help="the .ann network file")
    tr.add_argument("--epochs", type=int, help="epochs to train (default: the file's setting)")
    tr.add_argument("--data", help="a built-in data set name (xor, spirals, ...) or a CSV file "
                                   "(default: the data set saved in the file)")
    tr.add_argument("--out", help="where to write the trained network (default: overwrite FILE)")
    tr.add_argument("--batch-size", type=int, dest="batch_size", help="batch size")
    tr.add_argument("--learning-rate", type=float, dest="learning_rate", help="learning rate")
    tr.add_argument("--optimizer", help="sgd, adagrad, adadelta, rmsprop, adam or adamw")
    tr.add_argument("--quiet", action="store_true", help="print only the final line")
    csv = tr.add_argument_group("CSV data", "choices for a CSV file (given with --data, or the one the file names)")
    csv.add_argument("--target", metavar="COL", help="the target column(s), by name or 1-based number, "
                                                     "comma-separated (default: the last column)")
    csv.add_argument("--inputs", metavar="A,B", help="the input columns, by name or 1-based number, "
                                                     "comma-separated (default: every other column)")
    csv.add_argument("--no-header", action="store_true", dest="no_header",
                     help="the first row is data, not column names (the columns are then col1, col2, ...)")
    csv.add_argument("--header", choices=("auto", "names", "none", "sklearn"), default=None,
                     help="what the first row is: detected (auto), column names, data (none), or "
                          "scikit-learn's counts and class names (sklearn)")
    csv.add_argument("--skip-rows", type=int, dest="skip_rows", metavar="N",
                     help="leave out the first N lines of the file")
    csv.add_argument("--no-standardize", action="store_true", dest="no_standardize",
                     help="feed the input columns as they are (default: scaled to mean 0, standard deviation 1; "
                          "the file's own CSV keeps its saved choice)")
    csv.add_argument("--standardize", action="store_true",
                     help="scale the input columns to mean 0, standard deviation 1 (fitted anew)")
    csv.add_argument("--task", choices=("auto", "classification", "regression"), help="the task (default: auto)")
    info = sub.add_parser("info", help="print a summary table of a network file")
    info.add_argument("file", help="the .ann network file")
    ex = sub.add_parser("explain", help="print every value of one training step for one sample: "
                                        "inputs, z, outputs, loss, deltas, gradients and the update")
    ex.add_argument("file", help="the .ann network file")
    ex.add_argument("--sample", type=int, required=True, metavar="N",
                    help="the sample: row N of the file's data set as loaded (0 is the first row), "
                         "before any shuffle or split")
    ex.add_argument("--data", help="a built-in data set name or a CSV file (default: the data set saved in the file)")
    ex.add_argument("--max-values", type=int, default=8, dest="max_values", metavar="K",
                    help="values shown per array before it is cut short (default: 8)")
    pr = sub.add_parser("predict", help="predict every row of a CSV file: its class name or output values")
    pr.add_argument("file", help="the .ann network file")
    pr.add_argument("--data", required=True, metavar="CSV",
                    help="the rows: a CSV file whose columns are the network's inputs, found by the names of "
                         "the network's data set (or, without them, the first columns); other columns are ignored")
    pr.add_argument("-o", "--out", metavar="OUT.csv", help="write the predictions here (default: print them)")
    pr.add_argument("--standardized", action="store_true",
                    help="the rows are already standardized (default: raw values, scaled as the network's data set)")
    ev = sub.add_parser("evaluate", help="score a network on a held-out CSV file: loss, accuracy or R², and "
                                         "a confusion matrix for classification")
    ev.add_argument("file", help="the .ann network file")
    ev.add_argument("--data", required=True, metavar="CSV",
                    help="the rows with their targets: the input columns as for predict, the target column(s) by "
                         "the names of the network's data set (or, without them, the last column(s))")
    ev.add_argument("--standardized", action="store_true",
                    help="the rows are already standardized (default: raw values, scaled as the network's data set)")
    xp = sub.add_parser("export", help="write a network as PyTorch code, ONNX or NumPy code")
    xp.add_argument("file", help="the .ann network file")
    xp.add_argument("--to", required=True, choices=("pytorch", "onnx", "numpy"), help="the format")
    xp.add_argument("-o", "--out", required=True, metavar="OUT", help="the file to write (files beside it as needed)")
    im = sub.add_parser("import", help="make a .ann network file of a model of another framework (.onnx)")
    im.add_argument("model", help="the model file (.onnx)")
    im.add_argument("-o", "--out", metavar="NET.ann", help="the network file to write (default: MODEL with .ann)")
    df = sub.add_parser("diff", help="compare two network files: nodes, wires, parameters, settings and weights "
                                     "(exit status 0: the same, 1: they differ, 2: a file cannot be read)")
    df.add_argument("a", metavar="A.ann", help="the first network file")
    df.add_argument("b", metavar="B.ann", help="the second network file (differences are from A to B)")
    df.add_argument("--json", action="store_true", help="print the differences as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "info":
            return cmd_info(args)
        if args.command == "explain":
            return cmd_explain(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "import":
            return cmd_import(args)
        if args.command == "diff":
            return cmd_diff(args)
        return cmd_gui(args)
    except AnnError as e:
        print(f"anndesigner: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nanndesigner: interrupted; nothing was written", file=sys.stderr)
        return 130


def cmd_gui(args) -> int:
    if args.file is not None and not Path(args.file).exists():
        print(f"anndesigner: error: {args.file}: no such file", file=sys.stderr)
        return 1
    from .ui.app import run_gui

    return run_gui(args.file)


def _columns(text: str | None, option: str) -> list[str | int] | None:
    """``"a,b"`` as names; a plain number is a 1-based column number."""
    if text is None:
        return None
    out: list[str | int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise AnnError(f"--{option} {text}: an empty column name")
        if part.isascii() and part.isdigit():
            if int(part) < 1:
                raise AnnError(f"--{option} {text}: column numbers start at 1")
            out.append(int(part) - 1)
        else:
            out.append(part)
    return out


def _csv_choices(args) -> dict:
    """load_csv's keyword arguments for the CSV options given on the command line."""
    if args.no_header and args.header not in (None, "none"):
        raise AnnError(f"--no-header and --header {args.header} contradict each other")
    out: dict = {}
    header = "none" if args.no_header else args.header
    if header is not None:
        out["header"] = {"auto": "auto", "names": True, "none": False, "sklearn": "sklearn"}[header]
    if args.skip_rows is not None:
        if args.skip_rows < 0:
            raise AnnError(f"--skip-rows must be 0 or more, not {args.skip_rows}")
        out["skip_rows"] = args.skip_rows
    if args.no_standardize and args.standardize:
        raise AnnError("--standardize and --no-standardize contradict each other")
    if args.no_standardize or args.standardize:
        out["standardize"] = bool(args.standardize)
    if args.task is not None:
        out["task"] = args.task
    targets = _columns(args.target, "target")
    inputs = _columns(args.inputs, "inputs")
    if targets is not None:
        out["targets"] = targets
    if inputs is not None:
        out["inputs"] = inputs
    return out


def _load_data(net, spec: str | None, file: Path, choices: dict | None = None):
    """The data to train on: ``--data`` or the file's own, with the CSV ``choices`` (load_csv keywords)."""
    from .data import BUILTIN_DATASETS, load_builtin, load_csv, load_source
    from .data.dataset import source_from_file

    choices = choices or {}
    if spec is None:
        if not net.data_source:
            raise AnnError(f"{file.name} names no data set; pass --data NAME (one of: "
                           f"{', '.join(BUILTIN_DATASETS)}) or --data FILE.csv")
        if not choices:
            return load_source(net.data_source, base_dir=file.parent)
        saved = net.data_source
        if saved.get("kind") != "csv" or not isinstance(saved.get("path"), str):
            raise AnnError(f"--target, --inputs, --no-header, ... are for CSV data; "
                           f"{file.name} names a built-in data set (pass --data FILE.csv)")
        path = source_from_file(saved, file.parent)["path"]
        kept = {k: saved[k] for k in ("task", "standardize", "header", "delimiter", "skip_rows", "input_shape")
                if saved.get(k) is not None}
        if not {"targets", "inputs", "header", "skip_rows"} & set(choices):  # the saved names still hold
            kept.update(targets=saved.get("targets"), inputs=saved.get("inputs"))
        return load_csv(path, **{**kept, **choices})
    if spec in BUILTIN_DATASETS:
        if choices:
            raise AnnError(f"--target, --inputs, --no-header, ... are for CSV data, not the built-in set {spec}")
        saved = net.data_source or {}
        params = dict(saved.get("params", {})) if saved.get("name") == spec else {}
        return load_builtin(spec, standardize=bool(saved.get("standardize", False)), **params)
    if spec.lower().endswith((".csv", ".tsv", ".txt")) or Path(spec).exists():
        return load_csv(spec, **choices)
    raise AnnError(f"--data {spec}: not a built-in data set ({', '.join(BUILTIN_DATASETS)}) nor a CSV file")


def _fmt_time(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def cmd_train(args) -> int:
    from .engine import EpochEnd, Finished
    from .io import load_network

    file = Path(args.file)
    net = load_network(file)
    choices = _csv_choices(args)
    data = _load_data(net, args.data, file, choices)
    settings = {k: getattr(args, k) for k in ("epochs", "batch_size", "learning_rate", "optimizer")}
    trainer = net.trainer(data.X, data.Y, **{k: v for k, v in settings.items() if v is not None})
    if args.data is not None or choices:  # trained on other data than the file names: say which
        net.data_source = data.source
    epochs = trainer.config.epochs
    tty = sys.stdout.isatty()
    every = 1 if epochs <= 20 else max(1, epochs // 20)
    t0 = time.perf_counter()
    done = 0
    last_line = ""
    finished = None
    print(f"training {file.name} on {data.name}: {len(trainer.X)} samples"
          + (f", {len(trainer.X_val)} for validation" if trainer.X_val is not None else "")
          + f", {epochs} epochs", flush=True)
    for ev in trainer.run():
        if isinstance(ev, EpochEnd):
            done += 1
            elapsed = time.perf_counter() - t0
            eta = elapsed / done * (epochs - done)
            parts = [f"epoch {done}/{epochs}"]
            for k in ("loss", "val_loss", "accuracy", "val_accuracy", "r2", "val_r2", "mae"):
                if k in ev.metrics and not math.isnan(ev.metrics[k]):
                    parts.append(f"{k} {ev.metrics[k]:.4f}")
            parts.append(f"ETA {_fmt_time(eta)}")
            last_line = "  ".join(parts)
            if args.quiet:
                continue
            if tty:
                print("\r" + last_line.ljust(100), end="", flush=True)
            elif done % every == 0 or done == epochs:
                print(last_line, flush=True)
        elif isinstance(ev, Finished):
            finished = ev
    if tty and not args.quiet:
        print()
    if finished is not None and finished.reason == "nan":
        print(f"anndesigner: error: {finished.message}; nothing was written", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else file
    net.save(out)
    msg = finished.message if finished else ""
    if args.quiet:
        print(last_line)
    print(f"{msg}; wrote {out} ({_fmt_time(time.perf_counter() - t0)})")
    _print_target(net)
    return 0


def _print_target(net) -> None:
    from . import targets

    target = net.graph.meta.get("target")
    if not target:
        return
    try:
        target = targets.check(target)
    except AnnError as e:
        print(f"target: {e}")
        return
    value, ok = targets.reached(target, net.history.last() if len(net.history) else {})
    got = "not measured" if value is None else targets.fmt_value(target["metric"], value)
    print(f"target {targets.describe(target)}: {got} ({'reached' if ok else 'NOT reached'})")


def _fit_lines(net, file: Path) -> list[str]:
    """What :func:`~anndesigner.engine.datafit.check_fit` says of the file's own data: a line
    per mismatch with its fix and per note (none when the data fit), or why it cannot be loaded."""
    from .data import load_source
    from .engine.datafit import check_fit

    try:
        data = load_source(net.data_source, base_dir=file.parent)
    except (AnnError, OSError) as e:
        return [f"cannot be loaded: {e}"]
    report = check_fit(net.graph, data, net.describe_node)
    lines = [f"does not fit: {m.message}" + (f"; fix: {m.fix.text}" if m.fix is not None else "")
             for m in report.mismatches]
    return lines + report.notes


def cmd_info(args) -> int:
    from .io import load_network

    file = Path(args.file)
    net = load_network(file)
    meta = net.graph.meta
    print(f"{file.name}: {meta.get('title', '(untitled)')}")
    if meta.get("description"):
        print(meta["description"])
    if meta.get("target"):
        from . import targets

        try:
            print(f"Target: {targets.describe(targets.check(meta['target']))}")
        except AnnError as e:
            print(f"Target: {e}")
    print()
    print(net.summary())
    t = net.training
    print()
    rule = "" if t.rule == "backprop" else f"rule {t.rule}, "
    print(f"Training: {rule}{t.optimizer}, learning rate {t.learning_rate:g}, batch {t.batch_size}, "
          f"{t.epochs} epochs, seed {net.seed}")
    src = net.data_source
    if src:
        name = src.get("name") or src.get("path")
        print(f"Data: {src.get('kind')} {name}")
        for line in _fit_lines(net, file):
            print(f"  {line}")
    if len(net.history):
        last = net.history.last()
        shown = "  ".join(f"{k} {v:.4f}" for k, v in last.items() if k != "lr" and not math.isnan(v))
        print(f"Trained {len(net.history)} epochs; last: {shown}")
    return 0


def cmd_explain(args) -> int:
    from .engine import explain
    from .io import load_network

    file = Path(args.file)
    if args.max_values < 1:
        raise AnnError(f"--max-values must be 1 or more, not {args.max_values}")
    net = load_network(file)
    data = _load_data(net, args.data, file)
    n = len(data.X)
    if n == 0:
        raise AnnError(f"the data set {data.name} of {file.name} has no rows")
    if not 0 <= args.sample < n:
        raise AnnError(f"--sample {args.sample}: the data set {data.name} has {n} samples, "
                       f"numbered 0 to {n - 1}")
    trace = explain(net, data.X[args.sample], data.Y[args.sample])
    print(f"{file.name}, sample {args.sample} of {data.name} (rows 0 to {n - 1})")
    print(trace.to_text(max_values=args.max_values))
    return 0


# ------------------------------------------------------------- predict / evaluate
def _data_columns(net) -> tuple[list[str] | None, list[str] | None]:
    """The input and target column names of the network's data set (None: not known):
    a CSV source's saved choice, or a built-in data set's names (a one-hot target
    ``digit=0, digit=1, ...`` is the one column ``digit``)."""
    src = net.data_source
    if not src:
        return None, None
    if src.get("kind") == "csv":
        ins, outs = src.get("inputs"), src.get("targets")
        ok = lambda v: isinstance(v, list) and v and all(isinstance(c, str) for c in v)  # noqa: E731
        return (ins if ok(ins) else None), (outs if ok(outs) else None)
    from .data import load_source

    try:
        ds = load_source(src)
    except (AnnError, OSError):
        return None, None
    targets = list(ds.target_names)
    if ds.task == "classification" and len(targets) > 1:
        targets = [targets[0].split("=")[0]]
    return list(ds.input_names), targets


def _some(names: Sequence[str], k: int = 6) -> str:
    """The first ``k`` names, and how many more."""
    shown = ", ".join(names[:k])
    return shown if len(names) <= k else f"{shown} and {len(names) - k} more"


class _Rows:
    """The rows of a CSV file for predict/evaluate: inputs ``X`` (float64, raw) and the
    target cells, with each row's line in the file."""

    def __init__(self, path: Path, net, with_targets: bool):
        from .data.csvfile import _Table

        n_in = net.program.input_size
        ins, outs = _data_columns(net)
        with _Table(path) as table:
            names = table.names
            self.file = table.file
            input_cols = self._inputs(table, names, ins, n_in)
            target_cols = self._targets(table, names, outs, input_cols) if with_targets else []
            self.input_names = [names[i] for i in input_cols]
            self.target_names = [names[i] for i in target_cols]
            lay = table.layout
            self.layout_classes = (lay.classes if lay is not None and lay.classes and target_cols == [len(names) - 1]
                                   else None)
            self.lines: list[int] = []
            xs: list[list[float]] = []
            self.targets: list[list[str]] = []
            for line, row in table.rows():
                if len(row) != len(names):
                    raise table.shape_error(line, row)
                xs.append([self._number(table, line, row, c) for c in input_cols])
                self.targets.append([row[c].strip() for c in target_cols])
                self.lines.append(line)
        if not xs:
            raise AnnError(f"{self.file} has a header but no data rows")
        import numpy as np

        self.X = np.array(xs, dtype=np.float64)
        self.table_decimal_comma = table.decimal_comma

    @staticmethod
    def _number(table, line: int, row: list[str], col: int) -> float:
        from .data.csvfile import _parse_number

        v = _parse_number(row[col], table.decimal_comma)
        if v is None:
            raise table.cell_error(line, col, row[col])
        return v

    @staticmethod
    def _inputs(table, names: list[str], wanted: list[str] | None, n_in: int) -> list[int]:
        """The network's input columns: by the data set's names when the file has a header
        with any of them (all must be there), else the first ``n_in`` columns."""
        if wanted is not None and len(wanted) == n_in and table.header and set(wanted) & set(names):
            missing = [c for c in wanted if c not in names]
            if missing:
                raise AnnError(f"{table.file}: missing input column '{missing[0]}' (the network takes "
                               f"{_some(wanted)}); the file has {_some(names)}")
            return [names.index(c) for c in wanted]
        if len(names) < n_in:
            raise AnnError(f"{table.file}: {len(names)} columns, but the network takes {n_in} inputs"
                           + (f" ({_some(wanted)})" if wanted else ""))
        return list(range(n_in))

    @staticmethod
    def _targets(table, names: list[str], wanted: list[str] | None, input_cols: list[int]) -> list[int]:
        """The target columns: by the data set's names when the file has them, else the
        columns after the inputs."""
        if wanted is not None and table.header and all(c in names for c in wanted):
            return [names.index(c) for c in wanted]
        rest = [i for i in range(len(names)) if i not in input_cols]
        if not rest:
            raise AnnError(f"{table.file}: no target column" + (f" '{wanted[0]}'" if wanted else "")
                           + f"; the file has only the input columns ({', '.join(names)})")
        if wanted is not None and len(rest) != len(wanted):
            raise AnnError(f"{table.file}: missing target column '{wanted[0]}'; the file has {', '.join(names)}")
        return rest

    def labels(self, classes: list[str]) -> np.ndarray:
        """The target cells as class names (numbers written canonically; scikit-learn's
        class indices as the names its first row gives), checked against ``classes``."""
        from .data.csvfile import _canonical_number, _parse_number

        out = []
        name = self.target_names[0]
        for line, cells in zip(self.lines, self.targets):
            cell = cells[0]
            v = _parse_number(cell, self.table_decimal_comma)
            if v is not None and self.layout_classes is not None and v == int(v) and 0 <= v < len(self.layout_classes):
                cell = self.layout_classes[int(v)]
            elif v is not None:
                cell = _canonical_number(v)
            if cell not in classes:
                raise AnnError(f"{self.file}, line {line}, column '{name}': '{cell[:40]}' is not one of the "
                               f"network's classes ({', '.join(classes)})")
            out.append(cell)
        import numpy as np

        return np.array(out)

    def values(self) -> np.ndarray:
        import numpy as np

        from .data.csvfile import _parse_number

        Y = np.empty((len(self.lines), len(self.target_names)))
        for r, (line, cells) in enumerate(zip(self.lines, self.targets)):
            for c, cell in enumerate(cells):
                v = _parse_number(cell, self.table_decimal_comma)
                if v is None:
                    what = "empty cell" if not cell else f"'{cell[:40]}' is not a number"
                    raise AnnError(f"{self.file}, line {line}, column '{self.target_names[c]}': {what}")
                Y[r, c] = v
        return Y


def _is_classifier(net) -> bool:
    from .engine.datafit import CLASSIFICATION_LOSSES

    outs = net.program.outputs
    return net.classes is not None or net.training.rule != "backprop" or (
        bool(outs) and outs[0].loss in CLASSIFICATION_LOSSES)


def _row_error(e: AnnError, rows: _Rows) -> AnnError:
    """An engine error about row r (1-based) of the array, told as the file's line."""
    line = getattr(e, "line", None)
    if isinstance(line, int) and 1 <= line <= len(rows.lines):
        col = getattr(e, "column", None)
        where = f"line {rows.lines[line - 1]}"
        if isinstance(col, int) and 1 <= col <= len(rows.input_names):
            where += f", column '{rows.input_names[col - 1]}'"
        return AnnError(f"{rows.file}, {where}: {e}")
    return AnnError(f"{rows.file}: {e}")


def cmd_predict(args) -> int:
    import csv

    from .io import load_network

    net = load_network(Path(args.file))
    rows = _Rows(Path(args.data), net, with_targets=False)
    try:
        if _is_classifier(net):
            head = ["class"]
            body = [[str(c)] for c in net.predict_classes(rows.X, standardized=args.standardized)]
        else:
            P = net.predict(rows.X, standardized=args.standardized)
            P = P.reshape(len(P), -1)
            _, outs = _data_columns(net)
            head = outs if outs is not None and len(outs) == P.shape[1] else \
                [f"output{i + 1}" for i in range(P.shape[1])]
            body = [[f"{v:.9g}" for v in row] for row in P]
    except AnnError as e:
        raise _row_error(e, rows) from None
    if args.out:
        out = Path(args.out)
        try:
            with open(out, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(head)
                w.writerows(body)
        except OSError as e:
            raise AnnError(f"cannot write {out}: {e.strerror or e}") from None
        print(f"wrote {out} ({len(body)} rows)")
    else:
        w = csv.writer(sys.stdout, lineterminator="\n")
        try:
            w.writerow(head)
            w.writerows(body)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def confusion_text(actual: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> str:
    """A confusion matrix as text: a row per actual class, a column per predicted one."""
    import numpy as np

    index = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for a, p in zip(actual, predicted):
        m[index[a], index[p]] += 1
    names = [str(c) for c in classes]
    w0 = max(len("actual \\ predicted"), *(len(n) for n in names))
    ws = [max(len(n), len(str(int(m[:, j].max(initial=0))))) for j, n in enumerate(names)]
    lines = ["actual \\ predicted".ljust(w0) + "  " + "  ".join(n.rjust(w) for n, w in zip(names, ws))]
    for i, n in enumerate(names):
        lines.append(n.ljust(w0) + "  " + "  ".join(str(int(v)).rjust(w) for v, w in zip(m[i], ws)))
    return "\n".join(lines)


def cmd_evaluate(args) -> int:
    from .io import load_network

    net = load_network(Path(args.file))
    rows = _Rows(Path(args.data), net, with_targets=True)
    classify = _is_classifier(net)
    classes = net.classes
    try:
        if classify and classes is not None:
            Y = rows.labels(classes)
        else:
            Y = rows.values()
        m = net.evaluate(rows.X, Y, standardized=args.standardized)
        predicted = net.predict_classes(rows.X, standardized=args.standardized) \
            if classify and classes is not None else None
    except AnnError as e:
        raise _row_error(e, rows) from None
    print(f"{Path(args.file).name} on {rows.file}: {len(rows.lines)} rows")
    print(f"loss      {m['loss']:.6g}")
    for k, label in (("accuracy", "accuracy "), ("r2", "R²       "), ("mae", "MAE      ")):
        if k in m:
            print(f"{label} {m[k]:.6g}" + (f" ({m[k] * 100:.1f} %)" if k == "accuracy" else ""))
    if predicted is not None:
        print()
        print(confusion_text(Y, [str(p) for p in predicted], classes))
    return 0


# ------------------------------------------------------------- export / import
def _interop_error(e: Exception) -> int:
    print(f"anndesigner: error: {e}", file=sys.stderr)
    return 2


def cmd_export(args) -> int:
    from . import interop
    from .io import load_network

    net = load_network(Path(args.file))
    try:
        written = interop.export(net, args.to, Path(args.out))
    except interop.InteropError as e:
        return _interop_error(e)
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("anndesigner."):
            return _interop_error(f"export to {args.to} is not available in this version ({e.name} is missing)")
        raise
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_import(args) -> int:
    from . import interop
    from .io import save_network

    model = Path(args.model)
    if not model.exists():
        raise AnnError(f"{model}: no such file")
    out = Path(args.out) if args.out else model.with_suffix(".ann")
    try:
        net = interop.import_model(model)
    except interop.InteropError as e:
        return _interop_error(e)
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("anndesigner."):
            return _interop_error(f"importing {model.suffix} files is not available in this version "
                                  f"({e.name} is missing)")
        raise
    save_network(net, out)
    print(f"wrote {out}")
    return 0


# ------------------------------------------------------------- diff
def cmd_diff(args) -> int:
    """Exit status as diff(1): 0 the same, 1 different, 2 a file that cannot be read."""
    import json
    import warnings

    from .io import load_network
    from .io.diff import diff_networks

    nets = []
    for name in (args.a, args.b):
        try:
            with warnings.catch_warnings():  # (a dropped optimizer state or tour does not matter here)
                warnings.simplefilter("ignore")
                nets.append(load_network(Path(name)))
        except (AnnError, OSError) as e:
            text = str(e)
            shown = text if Path(name).name in text else f"{name}: {text}"
            print(f"anndesigner: error: {shown}", file=sys.stderr)
            return 2
    d = diff_networks(nets[0], nets[1], a_name=args.a, b_name=args.b)
    if args.json:
        print(json.dumps(d.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(d.to_text())
    return 0 if d.same else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
