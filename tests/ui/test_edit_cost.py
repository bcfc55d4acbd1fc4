"""One parameter edit costs one analysis of the graph and at most one compile,
whatever views follow the document (canvas, inspector, data panel, plots,
decision surface, thumbnails)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6")
from PySide6.QtCore import Qt  # noqa: E402

import anndesigner.engine.compiler as compiler_module  # noqa: E402
import anndesigner.engine.network as network_module  # noqa: E402
import anndesigner.graph.model as model_module  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def settle(qtbot, rounds=5):
    """Let timers and deferred work run (each round processes events for a while)."""
    for _ in range(rounds):
        qtbot.wait(60)


@pytest.fixture
def counts(monkeypatch):
    """Calls of the graph's analysis and of the compiler, from the moment it is used."""
    seen = {"analyses": 0, "compiles": 0}
    analyze, compile_graph = model_module._analyze, compiler_module.compile_graph

    def counted_analyze(*args, **kwargs):
        seen["analyses"] += 1
        return analyze(*args, **kwargs)

    def counted_compile(*args, **kwargs):
        seen["compiles"] += 1
        return compile_graph(*args, **kwargs)

    def start():
        monkeypatch.setattr(model_module, "_analyze", counted_analyze)
        monkeypatch.setattr(compiler_module, "compile_graph", counted_compile)
        monkeypatch.setattr(network_module, "compile_graph", counted_compile)
        return seen

    return start


@pytest.mark.parametrize("sample", ["xor.ann", "spirals.ann"])
def test_one_units_edit_is_one_analysis_and_at_most_one_compile(main_window, qtbot, counts, sample):
    w = main_window()
    w.open_file(SAMPLES / sample, ask=False)
    settle(qtbot)
    dense = next(n.id for n in w.document.graph.nodes.values() if n.type_id == "Dense")
    w.scene.clearSelection()
    w.scene.node_item(dense).setSelected(True)
    settle(qtbot)
    spin = w.inspector.field("units")
    assert spin is not None
    old = w.document.graph.nodes[dense].params["units"]
    seen = counts()
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(old + 3))
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    settle(qtbot)
    assert w.document.graph.nodes[dense].params["units"] == old + 3  # the edit went through
    assert seen["analyses"] == 1, f"{seen['analyses']} analyses for one edit"
    assert seen["compiles"] <= 1, f"{seen['compiles']} compiles for one edit"
