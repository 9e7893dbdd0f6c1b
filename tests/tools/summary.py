#!/usr/bin/env python3
"""Prints each test's Check summary (or its "summary:" line) and a final
'N passed, N failed' line over all the logs given.

Usage: summary.py [LABEL=]LOG.json...   (meson's meson-logs/testlog.json
of the build, of build-san for the sanitizer leg, of build-fuzz for the fuzz
targets, or any file of the same JSON lines; a log that is missing counts
as one failure; LABEL prefixes the names of that log's tests)
"""
import json
import re
import sys

check_line = re.compile(r"^\d+%: Checks: \d+, Failures: \d+, Errors: \d+")
passed = failed = 0
for arg in sys.argv[1:]:
    label, _, log = arg.rpartition("=") if "=" in arg and not arg.startswith("/") else ("", "", arg)
    prefix = f"{label}: " if label else ""
    try:
        f = open(log, encoding="utf-8")
    except OSError as e:
        failed += 1
        print(f"  FAIL  {log}: {e.strerror}")
        continue
    with f:
        for line in f:
            t = json.loads(line)
            ok = t["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
            passed += ok
            failed += not ok
            lines = ((t.get("stdout") or "").splitlines()
                     + (t.get("stderr") or "").splitlines())
            summary = [l for l in lines if check_line.match(l)]
            extra = [l for l in lines if l.startswith("summary:")]
            detail = (summary or extra or ["(no Check summary)"])[-1]
            print(f"{t['result']:>6}  {prefix + t['name']:<28} {t['duration']:7.2f}s  {detail}")
            if not ok:
                for l in lines[-40:]:
                    print(f"        | {l}")
print(f"{passed} passed, {failed} failed")
