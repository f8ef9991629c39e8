"""Text parsing speed: reports per second over the seed reports, repeated.

    python bench/parse_bench.py [--repeat 20] [--rounds 7] [--seeds ../shared/seeds]

The goal is ≥ 200 reports/s per core; this prints the figure and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from gongkai.parse import parse
from gongkai.read import read


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default=str(Path(__file__).resolve().parents[2] / "shared" / "seeds"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    files = sorted(Path(args.seeds).glob("*.txt"))
    if not files:
        raise SystemExit(f"no .txt reports in {args.seeds}")
    for f in files:  # warm up: imports, format loading, regex compilation
        parse(read(f))
    rates, wall, n = [], 0.0, 0
    for _ in range(args.rounds):  # the host's speed varies from minute to minute: several rounds
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(args.repeat):
            for f in files:
                parse(read(f))
        wall += time.perf_counter() - start
        n += args.repeat * len(files)
        rates.append(args.repeat * len(files) / (time.process_time() - cpu_start))
    print(f"parsed {n} text reports ({len(files)} seeds × {args.repeat} × {args.rounds} rounds) in {wall:.2f}s wall; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{statistics.median(rates):.0f} reports per CPU-second, one process (median of rounds; "
          f"best {max(rates):.0f}, worst {min(rates):.0f}); goal ≥ 200")


if __name__ == "__main__":
    main()
