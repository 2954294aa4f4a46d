#!/usr/bin/env python3
"""Write a large minute-bar prices CSV quickly (stdlib only), for the big-files benchmark.

Columns: date,ticker,open,high,low,close,volume -- `date` is ISO-8601 with a minute
("2022-01-03T09:30"), 100 tickers T000..T099, 390 minutes (09:30-15:59) per business day from
2022-01-03, sorted by date, minute, ticker. Days are appended until the file reaches SIZE_MB.

Speed: the rows of one day are built once per "template" (8 templates with different random
prices, chosen in turn), then each day is written as one join over that template with the day's
date in front of every row -- a few seconds per GB instead of minutes. Deterministic.

Usage: make_big_csv.py OUT.csv [--size-mb 1024]
"""

import argparse
import random
from datetime import date, timedelta

TICKERS = [f"T{i:03d}" for i in range(100)]
MINUTES = [f"T{9 + (30 + m) // 60:02d}:{(30 + m) % 60:02d}" for m in range(390)]
TEMPLATES = 8


def day_template(rng: random.Random) -> list[str]:
    """One day of rows without the date prefix: 'T09:30,T000,o,h,l,c,v'."""
    rows = []
    price = {t: 20 + 480 * rng.random() for t in TICKERS}
    for minute in MINUTES:
        for t in TICKERS:
            o = price[t]
            c = o * (1 + rng.gauss(0, 0.001))
            hi = max(o, c) * (1 + abs(rng.gauss(0, 0.0005)))
            lo = min(o, c) * (1 - abs(rng.gauss(0, 0.0005)))
            rows.append(f"{minute},{t},{o:.2f},{hi:.2f},{lo:.2f},{c:.2f},{int(rng.lognormvariate(9, 1))}")
            price[t] = c
    return rows


def business_days(start: date):
    d = start
    while True:
        if d.weekday() < 5:
            yield d
        d += timedelta(days=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=float, default=1024)
    args = ap.parse_args()
    target = int(args.size_mb * 1024 * 1024)
    rng = random.Random(42)
    templates = [day_template(rng) for _ in range(TEMPLATES)]
    written = 0
    with open(args.out, "w", newline="") as f:
        written += f.write("date,ticker,open,high,low,close,volume\n")
        for i, day in enumerate(business_days(date(2022, 1, 3))):
            if written >= target:
                break
            prefix = day.isoformat()
            block = prefix + ("\n" + prefix).join(templates[i % TEMPLATES]) + "\n"
            written += f.write(block)


if __name__ == "__main__":
    main()
