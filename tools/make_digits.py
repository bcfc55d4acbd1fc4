"""Regenerate ``resources/data/digits.npz`` from scikit-learn's copy of the UCI
optical handwritten digits (the 8×8 set, 1,797 samples). Run from the
repository root with scikit-learn installed (the ``bench`` extra):

    python tools/make_digits.py

Only this developer tool imports scikit-learn; the app reads the .npz file.

The file is a re-encoding of the data, nothing else: ``pixels`` is a
(1797, 64) uint8 array (values 0..16, rows in the original order, each row
the 8×8 image row by row) and ``labels`` a (1797,) uint8 array (0..9). The
arrays are stored deflate-compressed with fixed zip timestamps, so running
the tool twice gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "data" / "digits.npz"

N_SAMPLES = 1797
N_PIXELS = 64


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like ``np.savez_compressed`` but reproducible (fixed member dates)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1998, 7, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, _npy_bytes(arr), compresslevel=9)


def main() -> None:
    from sklearn.datasets import load_digits  # dev-only dependency

    d = load_digits()
    data = np.asarray(d.data)
    target = np.asarray(d.target)
    if data.shape != (N_SAMPLES, N_PIXELS) or target.shape != (N_SAMPLES,):
        raise SystemExit(f"unexpected digits shapes {data.shape} / {target.shape}")
    pixels = data.astype(np.uint8)
    labels = target.astype(np.uint8)
    # lossless: the values are integers 0..16 and labels 0..9
    if not np.array_equal(pixels, data) or pixels.max() > 16 or not np.array_equal(labels, target) or labels.max() > 9:
        raise SystemExit("digits values are not the expected integers")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_npz(OUT, pixels=pixels, labels=labels)
    with np.load(OUT, allow_pickle=False) as f:
        assert np.array_equal(f["pixels"], pixels) and np.array_equal(f["labels"], labels)
    counts = np.bincount(labels, minlength=10).tolist()
    print(f"wrote {OUT.relative_to(ROOT)}: {OUT.stat().st_size:,} bytes; "
          f"pixel sum {int(pixels.sum(dtype=np.int64))}, class counts {counts}")


if __name__ == "__main__":
    main()
