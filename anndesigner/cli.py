"""Command line: ``anndesigner [FILE]`` opens the designer;
``anndesigner train FILE``, ``anndesigner info FILE`` and ``anndesigner explain FILE --sample N``
work headless.

User mistakes print one clear line and exit with status 1; no tracebacks.
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

COMMANDS = ("train", "info", "explain", "gui")


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
