#!/usr/bin/python3
"""Parses a CSV file with Python's csv module (RFC 4180 dialect).

Usage: csv_check.py FILE [COLUMN ...]

Checks a header row, that every record has as many fields as the header
and that the named columns exist; prints "ROWS COLUMNS" and, for each
named column, "name=v1|v2|..." with its values in order.
"""
import csv
import sys


def main():
    with open(sys.argv[1], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    if not rows:
        sys.exit("no header row")
    header = rows[0]
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            sys.exit(f"record {i}: {len(row)} fields, header has {len(header)}")
    print(len(rows) - 1, len(header))
    for name in sys.argv[2:]:
        if name not in header:
            sys.exit(f"no column {name!r} in {header}")
        k = header.index(name)
        print(name + "=" + "|".join(r[k] for r in rows[1:]))


if __name__ == "__main__":
    main()
