"""Summarise the cProfile files of a `bench_pipeline.py --profile` run: the top functions of each service."""

from __future__ import annotations

import argparse
import pstats
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="<stack folder>/profiles")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats sort key: tottime or cumulative")
    args = parser.parse_args()
    for path in sorted(p for p in args.folder.iterdir() if p.is_file()):
        print(f"==================== {path.stem}")
        pstats.Stats(str(path)).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
