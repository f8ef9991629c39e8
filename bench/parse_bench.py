"""Text parsing speed: reports per CPU-second over the seed reports, repeated.

    python bench/parse_bench.py [--repeat 20] [--rounds 7] [--seeds ../shared/seeds]
                                [--baseline OTHER/src]

The goal is ≥ 200 reports/s per core; this prints the figures and asserts nothing. The host's speed
varies from minute to minute (2× on a shared machine), so a figure alone says little: `--baseline`
names another checkout's `src` (e.g. `git worktree add /tmp/old <commit>` then `/tmp/old/src`), and
the rounds alternate between the two in separate processes, so both see the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def one_round(seeds: str, repeat: int) -> float:
    """Reports per CPU-second over the seeds, `repeat` times each, in this process."""
    from gongkai.parse import parse
    from gongkai.read import read

    files = sorted(Path(seeds).glob("*.txt"))
    if not files:
        raise SystemExit(f"no .txt reports in {seeds}")
    for f in files:  # warm up: imports, format loading, regex compilation
        parse(read(f))
    start = time.process_time()
    for _ in range(repeat):
        for f in files:
            parse(read(f))
    return repeat * len(files) / (time.process_time() - start)


def measured(src: str, seeds: str, repeat: int) -> float:
    """One round in a fresh process with `src` first on the path."""
    env = {**os.environ, "PYTHONPATH": src}
    run = subprocess.run([sys.executable, __file__, "--seeds", seeds, "--repeat", str(repeat), "--one-round"],
                         env=env, capture_output=True, text=True, check=True)
    return float(run.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default=str(Path(__file__).resolve().parents[2] / "shared" / "seeds"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--baseline", help="another checkout's src directory to compare with, round by round")
    ap.add_argument("--one-round", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_round:
        print(one_round(args.seeds, args.repeat))
        return
    here = str(Path(__file__).resolve().parents[1] / "src")
    trees = {"this tree": here, **({"baseline": args.baseline} if args.baseline else {})}
    rates: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, src in trees.items():
            rates[name].append(measured(src, args.seeds, args.repeat))
    print(f"{args.rounds} rounds of the seeds × {args.repeat}, each in its own process; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, values in rates.items():
        print(f"{name}: {statistics.median(values):.0f} reports per CPU-second (median; best {max(values):.0f}, "
              f"worst {min(values):.0f}); goal ≥ 200")
    if args.baseline:
        ratios = [a / b for a, b in zip(rates["this tree"], rates["baseline"], strict=True)]
        print(f"this tree / baseline, round by round: median {statistics.median(ratios):.2f}×")


if __name__ == "__main__":
    main()
