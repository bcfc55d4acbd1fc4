"""The node palette: categories, search, add requests, drag payload, icons."""

import html
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QIcon, QImage  # noqa: E402

from anndesigner.graph.nodetypes import BUILTIN_REGISTRY, CATEGORIES, INPUT, OUTPUT  # noqa: E402
from anndesigner.graph.registry import NodeType, NodeTypeRegistry, ParamSpec  # noqa: E402
from anndesigner.ui import palette as palette_mod  # noqa: E402
from anndesigner.ui.icons import icon, node_icon_name, resources_dir  # noqa: E402
from anndesigner.ui.mime import MIME_NODE_TYPE  # noqa: E402
from anndesigner.ui.palette import TYPE_ROLE, PaletteWidget  # noqa: E402

ALL_IDS = [t.type_id for cat in CATEGORIES for t in BUILTIN_REGISTRY if t.category == cat]

TOOL_ICONS = [
    "new", "open", "save", "save-as", "undo", "redo", "cut", "copy", "paste", "delete", "duplicate",
    "zoom-in", "zoom-out", "zoom-fit", "zoom-actual", "auto-layout", "expand", "collapse", "train",
    "pause", "stop", "step", "reset", "export-image", "app",
]


@pytest.fixture
def palette(qtbot):
    w = PaletteWidget()
    qtbot.addWidget(w)
    w.resize(260, 600)
    w.show()
    qtbot.waitExposed(w)
    return w


def tree_contents(w):
    """[(category header, [type ids])] for the visible headers."""
    out = []
    for i in range(w.tree.topLevelItemCount()):
        header = w.tree.topLevelItem(i)
        if header.isHidden():
            continue
        kids = [header.child(j).data(0, TYPE_ROLE) for j in range(header.childCount())
                if not header.child(j).isHidden()]
        out.append((header.text(0), kids))
    return out


def entry(w, type_id):
    return w._item_for(type_id)


def double_click(qtbot, w, item):
    """A real double-click: Qt 6's QTest.mouseDClick sends only the second press, so click first."""
    pos = w.tree.visualItemRect(item).center()
    qtbot.mouseClick(w.tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(w.tree.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_every_builtin_type_is_listed_under_its_category(palette):
    contents = tree_contents(palette)
    used = {t.category for t in BUILTIN_REGISTRY}
    assert [c for c, _ in contents] == [c for c in CATEGORIES if c in used]
    assert used <= set(CATEGORIES)
    for cat, ids in contents:
        assert ids == [t.type_id for t in BUILTIN_REGISTRY if t.category == cat]
        assert ids, f"empty category {cat} is shown"
    assert palette.visible_type_ids() == ALL_IDS
    assert sorted(ALL_IDS) == sorted(t.type_id for t in BUILTIN_REGISTRY)


def test_entries_have_icon_title_and_a_tooltip_with_the_math(palette):
    for t in BUILTIN_REGISTRY:
        item = entry(palette, t.type_id)
        assert item.text(0) == t.title
        assert not item.icon(0).isNull()
        tip = item.toolTip(0)
        assert t.title in tip
        assert html.escape(t.description.split(":")[0]) in tip
    assert "z = Σ wᵢxᵢ + b, y = f(z)" in entry(palette, "Neuron").toolTip(0)
    assert "zeroes a fraction p" in entry(palette, "Dropout").toolTip(0)
    assert "Units = 8" in entry(palette, "Dense").toolTip(0)  # the parameters with their defaults


def test_search_filters_by_title_id_and_description(palette, qtbot):
    qtbot.keyClicks(palette.search, "drop")
    assert palette.visible_type_ids() == ["Dropout"]
    assert [c for c, _ in tree_contents(palette)] == ["Regularization"]

    palette.search.clear()
    qtbot.keyClicks(palette.search, "XYZ")
    assert palette.visible_type_ids() == []
    assert tree_contents(palette) == []
    assert palette.empty_label.isVisibleTo(palette)

    palette.search.clear()
    assert palette.visible_type_ids() == ALL_IDS
    assert not palette.empty_label.isVisibleTo(palette)

    palette.set_filter("ELEMENTWISE")  # in the descriptions of Activation and Add, case-insensitive
    assert palette.visible_type_ids() == ["Activation", "Add"]
    palette.set_filter("fullyconnected")  # an alias of Dense
    assert palette.visible_type_ids() == ["Dense"]
    palette.set_filter("layer dense")  # every word must match
    assert palette.visible_type_ids() == ["Dense"]


def test_search_lists_what_is_named_so_before_what_mentions_it(palette, qtbot):
    """Searching "Output" listed RNN, LSTM, GRU, Embedding and attention, whose descriptions say "output"."""
    qtbot.keyClicks(palette.search, "Output")
    assert palette.visible_type_ids() == ["Output"]
    for text, ids in [("add", ["Add"]),                        # not Conv2D and the pools ("padding")
                      ("input", ["Input"]),                    # not every layer that "takes an input"
                      ("norm", ["BatchNorm", "LayerNorm"]),    # not attention ("normalized" weights)
                      ("conv", ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool"]),  # the group
                      ("loss", ["Output"]),                    # a parameter
                      ("rate", ["Dropout"]),
                      ("recurrent", ["SimpleRNN", "LSTM", "GRU"]),  # named by no type: the descriptions
                      ("elementwise", ["Activation", "Add"])]:
        palette.set_filter(text)
        assert palette.visible_type_ids() == ids, text


def test_search_tiers(palette):
    from anndesigner.graph.nodetypes import BUILTIN_REGISTRY as R

    lstm, out = R.get("LSTM"), R.get("Output")
    assert palette.match_tier(out, ["output"]) == 0 and palette.match_tier(lstm, ["output"]) == 3
    assert palette.match_tier(lstm, ["sequence"]) == 1 and palette.match_tier(lstm, ["forget"]) == 2
    assert palette.match_tier(lstm, ["lstm", "forget"]) == 2 and palette.match_tier(lstm, ["lstm", "zzz"]) is None
    assert palette.match_tier(R.get("Conv2D"), ["add"]) is None  # "padding" does not start with "add"


def test_search_box_looks(palette):
    assert palette.search.placeholderText() == "Search nodes…"
    assert palette.search.isClearButtonEnabled()
    assert palette.objectName() == "palette"


def test_double_click_asks_for_the_node(palette, qtbot):
    with qtbot.waitSignal(palette.addRequested, timeout=1000) as blocker:
        double_click(qtbot, palette, entry(palette, "Dense"))
    assert blocker.args == ["Dense"]


def test_a_single_click_only_selects(palette, qtbot):
    item = entry(palette, "Dense")
    with qtbot.assertNotEmitted(palette.addRequested):
        qtbot.mouseClick(palette.tree.viewport(), Qt.MouseButton.LeftButton,
                         pos=palette.tree.visualItemRect(item).center())
    assert palette.tree.currentItem() is item


def test_double_click_on_a_header_asks_nothing(palette, qtbot):
    with qtbot.assertNotEmitted(palette.addRequested):
        double_click(qtbot, palette, palette.tree.topLevelItem(0))
    assert palette.visible_type_ids() == ALL_IDS  # headers do not collapse


def test_enter_on_an_entry_asks_for_it(palette, qtbot):
    palette.tree.setCurrentItem(entry(palette, "Output"))
    with qtbot.waitSignal(palette.addRequested, timeout=1000) as blocker:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)
    assert blocker.args == ["Output"]


def test_enter_in_the_search_box_adds_the_single_match(palette, qtbot):
    qtbot.keyClicks(palette.search, "conc")
    assert palette.visible_type_ids() == ["Concatenate"]
    with qtbot.waitSignal(palette.addRequested, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["Concatenate"]


def test_enter_with_several_matches_adds_nothing(palette, qtbot):
    qtbot.keyClicks(palette.search, "neuron")  # Neuron, Dense ("neurons"), ...
    assert len(palette.visible_type_ids()) > 1
    with qtbot.assertNotEmitted(palette.addRequested):
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
        qtbot.keyClick(palette.search, Qt.Key.Key_Enter)
    palette.set_filter("xyz")
    with qtbot.assertNotEmitted(palette.addRequested):
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)


def test_down_arrow_moves_into_the_list(palette, qtbot):
    qtbot.keyClicks(palette.search, "merge")
    assert palette.visible_type_ids() == ["Concatenate", "Add"]
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    assert palette.tree.currentItem() is entry(palette, "Concatenate")
    qtbot.keyClick(palette.tree, Qt.Key.Key_Down)
    with qtbot.waitSignal(palette.addRequested, timeout=1000) as blocker:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Enter)
    assert blocker.args == ["Add"]


def test_mime_data_carries_the_type_id(palette):
    for t in BUILTIN_REGISTRY:
        md = palette.mime_data_for(t.type_id)
        assert md.hasFormat(MIME_NODE_TYPE)
        assert bytes(md.data(MIME_NODE_TYPE)).decode("utf-8") == t.type_id
    assert bytes(palette.mime_data_for("FullyConnected").data(MIME_NODE_TYPE)) == b"Dense"


def test_dragging_an_entry_starts_a_drag_with_the_payload_and_icon(palette, monkeypatch):
    started = []

    class FakeDrag:
        def __init__(self, source):
            self.source = source
            self.mime = None
            self.pixmap = None

        def setMimeData(self, md):  # noqa: N802
            self.mime = md

        def setPixmap(self, pm):  # noqa: N802
            self.pixmap = pm

        def setHotSpot(self, p):  # noqa: N802
            self.hotspot = p

        def exec(self, actions):
            started.append(self)
            return Qt.DropAction.CopyAction

    monkeypatch.setattr(palette_mod, "QDrag", FakeDrag)
    palette.tree.setCurrentItem(entry(palette, "Neuron"))
    palette.tree.startDrag(Qt.DropAction.CopyAction)
    assert len(started) == 1
    d = started[0]
    assert d.source is palette.tree
    assert bytes(d.mime.data(MIME_NODE_TYPE)) == b"Neuron"
    assert not d.pixmap.isNull()
    assert isinstance(d.hotspot, QPoint)

    palette.tree.setCurrentItem(palette.tree.topLevelItem(0))  # a header drags nothing
    palette.tree.startDrag(Qt.DropAction.CopyAction)
    assert len(started) == 1


def test_a_custom_registry_gets_its_own_categories_and_a_fallback_icon(qtbot):
    odd = NodeType("Odd", 1, "Odd thing", "Experimental", "y = 2x, for testing.",
                   (ParamSpec("k", "int", 1),), INPUT.inputs, ("out",), infer=lambda p, i: (1,))
    reg = NodeTypeRegistry([OUTPUT, INPUT, odd])
    w = PaletteWidget(reg)
    qtbot.addWidget(w)
    # the known categories keep their order (Data before Output); unknown ones follow; empty ones are hidden
    assert tree_contents(w) == [("Data", ["Input"]), ("Output", ["Output"]), ("Experimental", ["Odd"])]
    assert not w._item_for("Odd").icon(0).isNull()
    w.set_filter("2x")
    assert w.visible_type_ids() == ["Odd"]


def render(ic: QIcon, size: int = 48) -> QImage:
    img = ic.pixmap(size, size).toImage()
    assert img.width() == size and img.height() == size
    return img


def painted_fraction(img: QImage) -> float:
    w, h = img.width(), img.height()
    opaque = sum(1 for y in range(0, h, 2) for x in range(0, w, 2) if img.pixelColor(x, y).alpha() > 40)
    return opaque / ((w // 2) * (h // 2))


@pytest.mark.parametrize("name", [node_icon_name(t.type_id) for t in BUILTIN_REGISTRY] + TOOL_ICONS)
def test_every_icon_exists_and_renders(qapp, name):
    path = resources_dir() / "icons" / f"{name}.svg"
    assert path.is_file(), path
    text = path.read_text(encoding="utf-8")
    assert 'viewBox="0 0 24 24"' in text
    ic = icon(name)
    assert not ic.isNull()
    frac = painted_fraction(render(ic))
    assert 0.03 < frac < 0.95, f"{name}: {frac:.2f} of the icon is painted"


def test_no_stray_icon_files(qapp):
    names = {p.stem for p in Path(resources_dir(), "icons").glob("*.svg")}
    expected = {node_icon_name(t.type_id) for t in BUILTIN_REGISTRY} | set(TOOL_ICONS)
    assert expected <= names
