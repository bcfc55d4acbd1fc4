"""Saving a network file: permissions, errors that name the target, and the
temp files a killed save leaves (cleaned by the next save or open)."""

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import anndesigner as ad
from anndesigner.io import SaveError, clean_stale_temps
from anndesigner.io import annfile
from helpers import mlp

ROOT = Path(__file__).resolve().parents[2]


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def net():
    return ad.Network(mlp([2, 4, 1]), seed=1)


def old(p, seconds=60):
    t = time.time() - seconds
    os.utime(p, (t, t))
    return p


@pytest.mark.parametrize("perm", [0o644, 0o600, 0o640, 0o664])
def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path, perm):
    p = tmp_path / "n.ann"
    net().save(p)
    os.chmod(p, perm)
    net().save(p)
    assert mode(p) == perm
    ad.load(p)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask_default(tmp_path, umask):
    before = os.umask(umask)
    try:
        net().save(tmp_path / "new.ann")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(before)
    assert mode(tmp_path / "new.ann") == 0o666 & ~umask == mode(tmp_path / "plain")


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real.ann"
    net().save(real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.ann"
    link.symlink_to(real)
    n = ad.Network(mlp([2, 3, 1]), seed=5)
    n.save(link)
    assert link.is_symlink() and mode(real) == 0o640
    assert ad.load(real).graph.nodes["dense_1"].params["units"] == 3


def test_a_folder_as_target_names_the_target(tmp_path):
    target = tmp_path / "folder.ann"
    target.mkdir()
    with pytest.raises(SaveError) as e:
        net().save(target)
    assert e.value.filename == str(target) and "folder" in e.value.strerror
    assert str(e.value) == f"cannot save {target}: it is a folder; choose a file name"
    assert isinstance(e.value, OSError) and isinstance(e.value, ad.AnnError)
    assert os.listdir(tmp_path) == ["folder.ann"] and os.listdir(target) == []


def test_a_missing_folder_names_the_target_not_the_temp_file(tmp_path):
    target = tmp_path / "nowhere" / "n.ann"
    with pytest.raises(SaveError, match="the folder does not exist") as e:
        net().save(target)
    assert e.value.filename == str(target) and ".tmp" not in str(e.value)
    assert e.value.errno == errno.ENOENT


@pytest.mark.parametrize("err, words", [(errno.ENOSPC, "the disk is full"),
                                        (errno.EACCES, "permission denied"),
                                        (errno.EROFS, "the disk is read-only")])
def test_write_errors_keep_the_old_file_and_leave_no_temp(tmp_path, monkeypatch, err, words):
    p = tmp_path / "keep.ann"
    net().save(p)
    os.chmod(p, 0o644)
    before = p.read_bytes()

    def fail(fd):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(annfile.os, "fsync", fail)
    with pytest.raises(SaveError, match=f"^cannot save {p}: {words}") as e:
        ad.Network(mlp([2, 8, 1])).save(p)
    assert e.value.errno == err
    assert p.read_bytes() == before and mode(p) == 0o644
    assert os.listdir(tmp_path) == ["keep.ann"]


def test_creating_the_temp_file_fails(tmp_path, monkeypatch):
    def fail(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path) + ".abcdefgh.tmp")

    monkeypatch.setattr(annfile, "_new_temp", fail)
    with pytest.raises(SaveError, match="permission denied") as e:
        net().save(tmp_path / "n.ann")
    assert ".tmp" not in str(e.value) and e.value.filename == str(tmp_path / "n.ann")


def test_the_window_shows_the_reason_for_the_target(tmp_path):
    """MainWindow._save_to shows f"{path}: {e.strerror or e}" for OSError and AnnError alike."""
    target = tmp_path / "x"
    target.mkdir()
    with pytest.raises((OSError, ad.AnnError)) as e:
        net().save(target)
    assert f"{target}: {getattr(e.value, 'strerror', None) or e.value}" == f"{target}: it is a folder; choose a file name"


def test_the_cli_reports_a_save_error_in_one_line(tmp_path, capsys):
    from anndesigner.cli import main

    src = tmp_path / "xor.ann"
    src.write_bytes((ROOT / "samples" / "xor.ann").read_bytes())
    rc = main(["train", str(src), "--epochs", "1", "--out", str(tmp_path / "missing" / "out.ann"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and err.strip() == f"anndesigner: error: cannot save {tmp_path / 'missing' / 'out.ann'}: " \
                                      "the folder does not exist"


# ------------------------------------------------------------ stale temp files
def test_stale_temp_files_are_cleaned_by_save_and_by_open(tmp_path):
    p = tmp_path / "n.ann"
    net().save(p)
    a = tmp_path / "n.ann.k3j_9xq2.tmp"
    a.write_bytes(p.read_bytes()[:100])  # a save cut short
    old(a)
    b = tmp_path / "n.ann.zzzzzzzz.tmp"
    b.write_bytes(b"")  # killed before writing anything
    old(b)
    net().save(p)
    assert not a.exists() and not b.exists()
    c = tmp_path / "n.ann.abcdefgh.tmp"
    c.write_bytes(b"PK\x03\x04rest")
    old(c)
    ad.load(p)
    assert not c.exists()
    assert sorted(os.listdir(tmp_path)) == ["n.ann"]


def test_files_that_are_not_ours_are_never_removed(tmp_path):
    p = tmp_path / "n.ann"
    net().save(p)
    keep = {
        "n.ann.notes123.tmp": b"my notes",  # right name, but not a zip
        "n.ann.ABCDEFGH.tmp": b"PK\x03\x04",  # capitals: not a name we make
        "n.ann.abcdefg.tmp": b"PK\x03\x04",  # 7 characters
        "n.ann.abcdefghi.tmp": b"PK\x03\x04",  # 9
        "m.ann.abcdefgh.tmp": b"PK\x03\x04",  # another file's
        "n.ann.abcdefgh.tmp.bak": b"PK\x03\x04",
        "xn.ann.abcdefgh.tmp": b"PK\x03\x04",
    }
    for name, data in keep.items():
        (tmp_path / name).write_bytes(data)
        old(tmp_path / name)
    young = tmp_path / "n.ann.young123.tmp"
    young.write_bytes(b"PK\x03\x04")  # just made: may be a save that is starting
    (tmp_path / "n.ann.folder12.tmp").mkdir()
    old(tmp_path / "n.ann.folder12.tmp")
    os.symlink(p, tmp_path / "n.ann.symlink1.tmp")
    net().save(p)
    ad.load(p)
    assert set(keep) | {"n.ann", "n.ann.young123.tmp", "n.ann.folder12.tmp", "n.ann.symlink1.tmp"} \
        == set(os.listdir(tmp_path))
    assert p.exists() and young.read_bytes() == b"PK\x03\x04"


def test_a_temp_file_locked_by_a_save_in_progress_is_kept(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    p = tmp_path / "n.ann"
    t = tmp_path / "n.ann.inuse123.tmp"
    t.write_bytes(b"PK\x03\x04")
    old(t)
    with open(t, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # as a save in another process holds it
        assert clean_stale_temps(p) == []
        assert t.exists()
    assert clean_stale_temps(p) == [t] and not t.exists()


CHILD = textwrap.dedent("""
    import sys
    import anndesigner as ad
    g = ad.Graph()
    x = g.add_node("Input", units=500)
    d = g.add_node("Dense", units=1500)
    o = g.add_node("Output", units=1)
    g.connect(x, d)
    g.connect(d, o)
    net = ad.Network(g, seed=0)
    print("ready", flush=True)
    while True:
        net.save(sys.argv[1])
""")


def kill_mid_save(folder, target):
    """Run CHILD until it is killed with SIGKILL while a temp file exists; the temp's name."""
    for attempt in range(20):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE,
                                cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert proc.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if target.exists() and any(n.endswith(".tmp") for n in os.listdir(folder)):
                    break
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        left = [n for n in os.listdir(folder) if n.endswith(".tmp")]
        if left:
            return left
    raise AssertionError("the save was never caught mid-way")


def test_a_killed_save_leaves_a_temp_that_the_next_open_and_save_clean(tmp_path):
    """kill -9 a process that saves a 3 MB network over and over: its temp file is
    left beside the target, the target is intact, and the next open (then, after
    another kill, the next save) removes it."""
    target = tmp_path / "big.ann"
    for then in ("open", "save"):
        left = kill_mid_save(tmp_path, target)
        assert len(left) == 1 and annfile._temp_pattern("big.ann").fullmatch(left[0])
        net = ad.load(target)  # the last complete save is intact
        assert net.count_params() == 500 * 1500 + 1500 + 1501
        old(tmp_path / left[0])  # as after STALE_AFTER seconds
        if then == "open":
            ad.load(target)
        else:
            net.save(target)
        assert os.listdir(tmp_path) == ["big.ann"]


def test_a_device_or_pipe_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe.ann"
    os.mkfifo(fifo)
    with pytest.raises(SaveError, match="pipe.ann: it is not a regular file"):
        net().save(fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe.ann"]
    with pytest.raises(SaveError, match="not a regular file"):
        net().save("/dev/null")  # as root, os.replace would have put a file there
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root can give a file away")
def test_root_saving_keeps_the_owner(tmp_path):
    p = tmp_path / "n.ann"
    net().save(p)
    os.chown(p, 1234, 5678)
    net().save(p)
    assert (os.stat(p).st_uid, os.stat(p).st_gid) == (1234, 5678)
