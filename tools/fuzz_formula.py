"""A longer run of the formula parser's fuzz (the suite runs a seeded, shorter one):

    python tools/fuzz_formula.py [--count 200000] [--seed 1]

Random text and random token soups, each either a Formula (which evaluates to
finite numbers or refuses with a FormulaError) or a FormulaError; anything
else is printed with its input and the script exits 1.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

from test_formula_fuzz import ALPHABET, TOKENS, _check  # noqa: E402  (the suite's own checks)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    stats = {"parsed": 0, "refused": 0, "not finite": 0}
    t0 = time.perf_counter()
    bad = 0
    for i in range(args.count):
        if i % 2:
            text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))
        else:
            text = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 30)))
        try:
            _check(text, stats)
        except Exception:  # noqa: BLE001 - reported with its input
            bad += 1
            print(f"input {text!r}:\n{traceback.format_exc()}")
    print(f"{args.count} inputs in {time.perf_counter() - t0:.1f} s: {stats}, {bad} unexpected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
