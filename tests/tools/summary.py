#!/usr/bin/env python3
"""Prints each test binary's Check summary and a final 'N passed, N failed' line.

Usage: summary.py build/meson-logs/testlog.json [meson-test-output]
"""
import json
import re
import sys

check_line = re.compile(r"^\d+%: Checks: \d+, Failures: \d+, Errors: \d+")
passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        passed += ok
        failed += not ok
        lines = (t.get("stdout") or "").splitlines() + (t.get("stderr") or "").splitlines()
        summary = [l for l in lines if check_line.match(l)]
        extra = [l for l in lines if l.startswith("summary:")]
        detail = (summary or extra or ["(no Check summary)"])[-1]
        print(f"{t['result']:>6}  {t['name']:<28} {t['duration']:7.2f}s  {detail}")
        if not ok:
            for l in lines[-40:]:
                print(f"        | {l}")
print(f"{passed} passed, {failed} failed")
