"""The package's layers, read from the source (like import-linter's "layers"
contract): every ``anndesigner`` import of every module, lazy ones inside
functions too, points down

    ui | cli  ->  anndesigner (the package's top) | interop  ->  io  ->  engine  ->  data | graph
              ->  params | targets | paths  ->  errors, _version

never up and never sideways (data and graph do not know each other, nor ui
and cli, except that the CLI's ``gui`` command starts the window). The ui
reaches the engine only through ``anndesigner.engine``, whose ``__all__`` is
the engine's public surface."""

import ast
from pathlib import Path

import pytest

import anndesigner
import anndesigner.engine

ROOT = Path(anndesigner.__file__).parent

#: layer of each top-level part: a module imports only parts of a lower layer, or its own part
LAYERS = {
    "anndesigner.__main__": 7,
    "anndesigner.ui": 6, "anndesigner.cli": 6,
    "anndesigner": 5, "anndesigner.interop": 5,
    "anndesigner.io": 4,
    "anndesigner.engine": 3,
    "anndesigner.data": 2, "anndesigner.graph": 2,
    "anndesigner.params": 1, "anndesigner.paths": 1, "anndesigner.targets": 1,
    "anndesigner.errors": 0, "anndesigner._version": 0,
}
#: imports across the layers that are the design: the CLI's "gui" command opens the window
ALLOWED = {("anndesigner.cli", "anndesigner.ui.app")}
#: ui modules that still import an engine module directly; each is to import it from
#: anndesigner.engine instead (this list only shrinks: an entry that is no longer true fails)
PENDING_UI_ENGINE: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    p = ROOT.parent.joinpath(*name.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for every anndesigner import in the file; ``from X import Y``
    counts as importing X.Y when Y is a module."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "anndesigner"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "anndesigner":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub if is_module(sub) else target, node.lineno))
    return out


def part_of(name: str) -> str:
    """The key of LAYERS that ``name`` belongs to (the longest that is a prefix)."""
    best = max((k for k in LAYERS if name == k or name.startswith(k + ".")), key=len)
    return best


MODULES = sorted(ROOT.rglob("*.py"))
EDGES = [(module_name(p), target, line, p) for p in MODULES for target, line in imports_of(p)]


def test_the_parser_sees_the_imports_it_must():
    names = {(a, b) for a, b, _, _ in EDGES}
    assert ("anndesigner.io.annfile", "anndesigner.engine.build") in names  # a relative import, resolved
    assert ("anndesigner.cli", "anndesigner.io") in names  # a lazy import inside a function
    assert ("anndesigner.ui.canvas.items", "anndesigner.ui.style") in names  # "from .. import style"
    assert len(MODULES) > 60


def test_every_import_points_down_the_layers():
    bad = []
    for me, target, line, path in EDGES:
        a, b = part_of(me), part_of(target)
        if a == b or (me, target) in ALLOWED or any(me == x and target.startswith(y) for x, y in ALLOWED):
            continue
        if LAYERS[b] >= LAYERS[a]:
            bad.append(f"{path.relative_to(ROOT.parent)}:{line}: {me} imports {target}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_the_ui_imports_the_engine_only_through_its_public_surface():
    direct = {(me, target) for me, target, _, _ in EDGES
              if part_of(me) == "anndesigner.ui" and target.startswith("anndesigner.engine.")}
    assert direct - PENDING_UI_ENGINE == set(), "import these from anndesigner.engine instead"
    assert PENDING_UI_ENGINE - direct == set(), "no longer imported directly: remove from PENDING_UI_ENGINE"


def test_the_engines_public_surface_is_named():
    public = anndesigner.engine.__all__
    assert len(public) == len(set(public))
    for name in public:
        assert getattr(anndesigner.engine, name) is not None
    for name in ("Network", "TrainingProcess", "TrainingSnapshot", "Finished", "History", "network_from_dict"):
        assert name in public


@pytest.mark.parametrize("part", ["anndesigner.engine", "anndesigner.data", "anndesigner.graph"])
def test_the_core_parts_never_import_io_or_ui(part):
    up = [(me, t) for me, t, _, _ in EDGES
          if part_of(me) == part and part_of(t) in ("anndesigner.io", "anndesigner.ui", "anndesigner", "anndesigner.cli")]
    assert up == []
