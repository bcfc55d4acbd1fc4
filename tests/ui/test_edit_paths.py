"""Every edit goes through the document's editor.

An AST check: outside ``ui/editor.py`` and ``ui/commands.py`` no ui module
pushes onto an undo stack, builds an undo command of ``commands.py``, or calls
the model's mutating API (the graph's, the network's, ``apply_rewrite``). And
the one delete path: the canvas's Delete key and the menu's Delete both refuse
while training holds the lock.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "anndesigner" / "ui"
#: the modules that may make edits: the editor, and the commands it builds
OWNERS = {"editor.py", "commands.py"}

#: ui modules whose edits are still made outside the editor (relative to anndesigner/ui);
#: the lead empties this list once every helper has switched their call sites
PENDING: dict[str, str] = {}  # e.g. {"inspector.py": "pending: switched by params"}

#: (module, function) that touch an undo stack or a network that is not the document's model
EXEMPT = {
    ("document.py", "Document.push"): "the undo stack's own entry point (the tests push through it)",
    ("training/surface.py", "SurfaceEvaluator.set_weights"): "the evaluator's private copy of the network",
}

GRAPH_API = {"add_node", "insert_node", "remove_node", "set_params", "move_node", "set_label", "set_meta",
             "connect", "disconnect", "insert_edge"}
NETWORK_API = {"stage_weights", "set_weights", "set_training", "set_data_source", "set_history", "reset_weights"}
PUSHES = {"push", "beginMacro", "endMacro"}


def command_names() -> set[str]:
    """The undo commands of commands.py: its QUndoCommand classes and its ``*_command`` factories."""
    tree = ast.parse((UI / "commands.py").read_text(encoding="utf-8"))
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.endswith("_command")}
    return classes | funcs


def _tail(expr: ast.expr) -> str:
    """The last name of a receiver: ``doc.graph`` -> "graph", ``self._net`` -> "_net"."""
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Call):
        return _tail(expr.func)
    return ""


def _is_graph(expr: ast.expr) -> bool:
    name = _tail(expr).lower()
    return name in ("g", "graph", "_graph") or name.endswith("graph")


def _is_network(expr: ast.expr) -> bool:
    name = _tail(expr).lower()
    return name in ("net", "_net", "network", "_network") or name.endswith("network")


def _is_signal_connection(call: ast.Call) -> bool:
    """``signal.connect(slot)`` / ``signal.disconnect(slot)``: Qt, not the graph (whose
    ``connect(src, dst)`` takes two node ids and ``disconnect(edge_id)`` a wire id)."""
    return _tail(call.func.value) not in ("g", "graph", "_graph") and not _tail(call.func.value).endswith("graph")


def _calls(tree: ast.AST, where: str = ""):
    """Every call in ``tree`` with the qualified name of the function it is in."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _calls(child, f"{where}.{child.name}" if where else child.name)
            continue
        if isinstance(child, ast.Call):
            yield child, where
        yield from _calls(child, where)


def edits_in(source: str, commands: set[str], module: str = "") -> list[tuple[int, str]]:
    """(line, what) for every edit made outside the editor in ``source`` (of ``module``)."""
    found = []
    for node, where in _calls(ast.parse(source)):
        if (module, where) in EXEMPT:
            continue
        f = node.func
        if isinstance(f, ast.Name):
            if f.id in commands:
                found.append((node.lineno, f"builds {f.id}"))
            elif f.id == "apply_rewrite":
                found.append((node.lineno, "calls apply_rewrite"))
            continue
        if not isinstance(f, ast.Attribute):
            continue
        attr = f.attr
        if attr in commands:
            found.append((node.lineno, f"builds {attr}"))
        elif attr == "apply_rewrite":
            found.append((node.lineno, "calls apply_rewrite"))
        elif attr in PUSHES:
            found.append((node.lineno, f"calls .{attr}("))
        elif attr in GRAPH_API and _is_graph(f.value):
            if attr in ("connect", "disconnect") and _is_signal_connection(node):
                continue
            found.append((node.lineno, f"calls the graph's {attr}"))
        elif attr in NETWORK_API and _is_network(f.value):
            found.append((node.lineno, f"calls the network's {attr}"))
    return found


def ui_modules() -> dict[str, Path]:
    return {p.relative_to(UI).as_posix(): p for p in sorted(UI.rglob("*.py"))}


def edits_by_module() -> dict[str, list[tuple[int, str]]]:
    commands = command_names()
    out = {}
    for rel, path in ui_modules().items():
        if rel in OWNERS:
            continue
        found = edits_in(path.read_text(encoding="utf-8"), commands, rel)
        if found:
            out[rel] = found
    return out


def test_the_detector_sees_every_kind_of_edit():
    commands = command_names()
    assert {"RewriteCommand", "SetParamsCommand", "TrainCommand", "delete_command", "paste_command"} <= commands
    src = '''
from ..commands import SetParamsCommand
from .. import commands as C
doc.push(SetParamsCommand(doc, {}))
self.document.undo_stack.push(C.delete_command(doc, ["a"]))
self.doc.graph.connect("a", "b")
g.disconnect("edge_1")
doc.graph.set_params("a", units=3)
self.document.network.stage_weights({})
net.set_training(cfg)
apply_rewrite(net, rw)
stack.beginMacro("Cut")
'''
    lines = sorted({line for line, _ in edits_in(src, commands)})
    assert lines == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    fine = '''
button.clicked.connect(self._clicked)
doc.graph.node_added.connect(self._added)
self.graph.node_added.disconnect(self._added)
self._qt.connect(doc.lockChanged, self._lock)
doc.editor.add_node("Dense", (0, 0))
self.inspector.set_training(True)
self.evaluator.set_weights(w)
frag = C.copy_fragment(doc, ["a"])
scene.add_node("Dense", (0, 0))
'''
    assert edits_in(fine, commands) == []


def test_no_ui_module_edits_outside_the_editor():
    found = {rel: f for rel, f in edits_by_module().items() if rel not in PENDING}
    assert found == {}, "edits made outside ui/editor.py: " + "; ".join(
        f"{rel}:{line} {what}" for rel, f in found.items() for line, what in f)


def test_the_pending_list_names_only_modules_that_still_edit():
    still = edits_by_module()
    done = sorted(rel for rel in PENDING if rel not in still)
    assert done == [], f"these modules edit through the editor now; take them off PENDING: {done}"


# ------------------------------------------------------------ one delete path
REASON = "Training — stop it to change the structure"


def test_delete_key_and_menu_delete_both_refuse_while_training(main_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    from helpers import laid_out, mlp

    w = main_window()
    doc = w.document
    doc.editor.paste({"nodes": [n.to_dict() for n in laid_out(mlp([2, 3, 1])).nodes.values()]}, offset=(0, 0))
    doc.undo_stack.clear()
    nodes = list(doc.graph.nodes)
    w.scene.select_ids([nodes[1]])
    w.view.setFocus()
    qtbot.waitUntil(w.view.hasFocus)
    before = doc.graph.to_dict()

    doc.set_lock(REASON)
    qtbot.waitUntil(lambda: not w.act_delete.isEnabled())
    qtbot.keyClick(w.view.viewport(), Qt.Key.Key_Delete)  # the canvas's key
    assert doc.graph.to_dict() == before and doc.undo_stack.count() == 0
    assert w.statusBar().currentMessage() == REASON
    w.statusBar().clearMessage()
    w.act_delete.setEnabled(True)  # even if the menu's action could be triggered
    w.act_delete.trigger()
    qtbot.wait(10)
    assert doc.graph.to_dict() == before and doc.undo_stack.count() == 0
    assert w.statusBar().currentMessage() == REASON

    doc.set_lock("")
    qtbot.waitUntil(w.act_delete.isEnabled)
    seq = w.act_delete.shortcut()
    assert seq == QKeySequence(QKeySequence.StandardKey.Delete)
    w.act_delete.trigger()
    assert nodes[1] not in doc.graph.nodes and doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    w.scene.select_ids([nodes[1]])
    qtbot.keyClick(w.view.viewport(), Qt.Key.Key_Delete)
    assert nodes[1] not in doc.graph.nodes and doc.undo_stack.count() == 1
