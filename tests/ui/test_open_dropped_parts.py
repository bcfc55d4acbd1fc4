"""A file whose optional part (tour, optimizer state) is damaged opens without it,
and the window says what was dropped and why; nothing else of the file is lost."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from anndesigner.io import load_network  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def damaged_copy(tmp_path, member: str, data: bytes) -> Path:
    src = SAMPLES / "xor.ann"
    out = tmp_path / "xor-damaged.ann"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        names = zin.namelist()
        for n in names:
            zout.writestr(n, data if n == member else zin.read(n))
        if member not in names:
            zout.writestr(member, data)
    return out


@pytest.mark.parametrize("member,data,says", [
    ("tour.json", b"{not json", "tour.json"),
    ("tour.json", b'{"version": 1, "title": "t", "steps": [{"text": 5}]}', "step 1"),
    ("optimizer.npz", b"PK\x03\x04 broken", "optimizer.npz"),
])
def test_the_window_says_which_part_was_dropped(qtbot, main_window, tmp_path, member, data, says):
    path = damaged_copy(tmp_path, member, data)
    w = main_window()
    assert w.open_file(path, ask=False)
    msg = w.statusBar().currentMessage()
    assert "xor-damaged.ann" in msg and says in msg, msg
    assert w.document.load_warnings and all(m in msg for m in w.document.load_warnings)
    # the rest of the file is all there
    ref = load_network(SAMPLES / "xor.ann")
    got = w.document.network.get_weights()
    for k, v in ref.get_weights().items():
        np.testing.assert_array_equal(got[k], v)
    assert w.document.undo_stack.isClean()


def test_a_whole_file_says_nothing_was_dropped(qtbot, main_window):
    w = main_window()
    assert w.open_file(SAMPLES / "xor.ann", ask=False)
    assert w.document.load_warnings == []
