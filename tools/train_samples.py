"""Train every sample network to its stated target, the way a user would, and
print a table of target vs reached and the seconds it took.

    python tools/train_samples.py            # all samples
    python tools/train_samples.py xor spirals

Each sample is trained with ``anndesigner train FILE --out <temp>`` in a fresh
process, with the settings saved in the file; the shipped files are not changed.
Exit status 1 when a sample misses its target.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_LINE = re.compile(r"^target (?P<target>.+): (?P<got>.+) \((?P<verdict>reached|NOT reached)\)$", re.M)


def train(path: Path, out_dir: Path) -> tuple[str, str, bool, float, str]:
    out = out_dir / path.name
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-m", "anndesigner", "train", str(path), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    m = TARGET_LINE.search(proc.stdout)
    if proc.returncode != 0 or m is None:
        why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        return "?", "failed", False, seconds, why[0]
    return m["target"], m["got"], m["verdict"] == "reached", seconds, ""


def main(argv: list[str]) -> int:
    files = sorted((ROOT / "samples").glob("*.ann"))
    if argv:
        files = [f for f in files if f.stem in argv]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            target, got, ok, seconds, why = train(f, Path(tmp))
            rows.append((f.name, target, got, "yes" if ok else "NO", f"{seconds:.1f}", why))
            print(f"{f.name}: {target}: {got} ({seconds:.1f} s){' ' + why if why else ''}", file=sys.stderr, flush=True)
    head = ("sample", "target", "reached", "met", "seconds")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r[:5], widths)) + " |")
    total = sum(float(r[4]) for r in rows)
    print(f"\n{sum(r[3] == 'yes' for r in rows)}/{len(rows)} samples reached their target; {total:.0f} s in all")
    return 0 if all(r[3] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
