"""Text parsing speed: reports per second over the seed reports, repeated.

    python bench/parse_bench.py [--repeat 100] [--seeds ../shared/seeds]

The goal is ≥ 200 reports/s per core; this prints the figure and asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gongkai.parse import parse
from gongkai.read import read


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default=str(Path(__file__).resolve().parents[2] / "shared" / "seeds"))
    ap.add_argument("--repeat", type=int, default=100)
    args = ap.parse_args()
    files = sorted(Path(args.seeds).glob("*.txt"))
    if not files:
        raise SystemExit(f"no .txt reports in {args.seeds}")
    for f in files:  # warm up: imports, format loading, regex compilation
        parse(read(f))
    start = time.perf_counter()
    cpu_start = time.process_time()
    n = 0
    for _ in range(args.repeat):
        for f in files:
            parse(read(f))
            n += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(f"parsed {n} text reports ({len(files)} seeds × {args.repeat}) in {wall:.2f}s wall, {cpu:.2f}s CPU")
    print(f"{n / wall:.0f} reports/s (one process, one core); {n / cpu:.0f} reports per CPU-second")


if __name__ == "__main__":
    main()
