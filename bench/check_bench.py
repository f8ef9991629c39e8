"""Checking speed: milliseconds per report to evaluate every rule instance (sums, completeness,
statements of the text, sections), over the seeds and synthetic reports with generated narrative.

    python bench/check_bench.py [--repeat 20] [--rounds 7] [--seeds ../shared/seeds]

The goal is ≤ 5 ms per report; this prints the figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from gongkai.check import evaluate
from gongkai.parse import parse_file
from gongkai.synth import synth_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from narrative_gen import narrate  # the tests' generator of narrative from the tables


def per_report(reports: list, repeat: int, rounds: int) -> tuple[list[float], int]:
    """Milliseconds of CPU per report in each round (a round checks every report `repeat` times)."""
    for report in reports:  # warm up: format loading, regex compilation
        evaluate(report)
    times, outcomes = [], 0
    for _ in range(rounds):
        start = time.process_time()
        outcomes = 0
        for _ in range(repeat):
            for report in reports:
                outcomes += len(evaluate(report))
        times.append((time.process_time() - start) * 1000 / (repeat * len(reports)))
    return times, outcomes // repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default=str(Path(__file__).resolve().parents[2] / "shared" / "seeds"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    seeds = [parse_file(str(f)) for f in sorted(Path(args.seeds).glob("*.txt"))]
    synthetic = []
    for seed in range(20):
        report = synth_report(seed, format_id="2021" if seed % 3 else "2019")
        synthetic.append(narrate(report, random.Random(seed)).apply(report))
    for name, reports in (("seeds", seeds), ("synthetic, generated narrative", synthetic)):
        if not reports:
            continue
        times, outcomes = per_report(reports, args.repeat, args.rounds)
        print(f"{name}: {len(reports)} reports × {args.repeat} × {args.rounds} rounds: "
              f"{statistics.median(times):.2f} ms CPU per report (median; best {min(times):.2f}, "
              f"worst {max(times):.2f}), {outcomes / len(reports):.0f} outcomes per report")


if __name__ == "__main__":
    main()
