#!/usr/bin/env python3
"""Runs one fuzz target of tests/fuzz and prints a one-line summary.

Usage:
  run_fuzz.py fuzz   EXE TARGET SRCDIR WORKDIR   libFuzzer for RED_FUZZ_SECONDS (30)
  run_fuzz.py replay EXE TARGET SRCDIR WORKDIR   every seed and reproducer once

The seeds are generated from the repository on every run (nothing binary is
committed): decode gets each line of the JSONL files under tests/data,
contract the contracts and the test contracts, config the service configs
and the invalid examples. Reproducers of found bugs live in
tests/fuzz/repro/TARGET/ and are run with the seeds. libFuzzer writes what
it finds to WORKDIR/TARGET/ (corpus/ grows from run to run, artifacts/ holds
crashes, leaks and timeouts). Exit status 1 on any of them.
"""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys

SEEDS = {
    "decode": ["tests/data/**/*.jsonl"],
    "contract": ["contracts/*.yaml", "tests/data/contracts/**/*.yaml"],
    "config": ["config/*.yaml", "deploy/reducerd.yaml",
               "tests/data/config/**/*.yaml"],
}


def write_seeds(target, src, out):
    """Regenerates OUT from the repository; returns the number of seeds."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    blobs = []
    for pattern in SEEDS[target]:
        for path in sorted(glob.glob(os.path.join(src, pattern),
                                     recursive=True)):
            with open(path, "rb") as f:
                data = f.read()
            if target == "decode":
                blobs += [line for line in data.split(b"\n") if line.strip()]
            else:
                blobs.append(data)
    for blob in blobs:
        name = hashlib.sha1(blob).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)
    return len(set(hashlib.sha1(b).hexdigest() for b in blobs))


def stat(text, name):
    m = re.search(r"^stat::%s:\s*(\d+)" % name, text, re.M)
    return int(m.group(1)) if m else None


def failure(text):
    """The first line saying what went wrong, or None."""
    for pattern in (r"^fuzz_\w+: disagreement: .*$",
                    r"^==\d+==\s*ERROR: AddressSanitizer.*$",
                    r"^==\d+==\s*ERROR: LeakSanitizer.*$",
                    r"^.*runtime error: .*$",
                    r"^==\d+==\s*ERROR: .*$",
                    r"^ERROR: libFuzzer: .*$",
                    # glibc's own checks, in the replay without ASan
                    r"^(free|malloc|realloc|double free|corrupted)\b.*$"):
        m = re.search(pattern, text, re.M)
        if m:
            return m.group(0).strip()
    return None


def main():
    mode, exe, target, src, work = sys.argv[1:6]
    home = os.path.join(work, target)
    seeds = os.path.join(home, "seeds")
    repro = os.path.join(src, "tests", "fuzz", "repro", target)
    n = write_seeds(target, src, seeds)
    dirs = [seeds] + ([repro] if os.path.isdir(repro) else [])
    env = dict(os.environ, RED_SRCDIR=src)
    if mode == "replay":
        r = subprocess.run([exe] + dirs, env=env, capture_output=True,
                           text=True, errors="replace")
        sys.stderr.write(r.stdout + r.stderr)
        if r.returncode:
            print(f"summary: fuzz_{target}: replay of {n} seeds and the "
                  f"reproducers FAILED: "
                  f"{failure(r.stderr) or 'exit %d' % r.returncode}")
            return 1
        print(f"summary: fuzz_{target}: {n} seeds and the reproducers "
              f"replayed")
        return 0

    seconds = int(os.environ.get("RED_FUZZ_SECONDS", "30"))
    corpus = os.path.join(home, "corpus")
    artifacts = os.path.join(home, "artifacts")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    cmd = [exe, f"-max_total_time={seconds}", "-timeout=10",
           "-rss_limit_mb=2048", "-max_len=65536", "-print_final_stats=1",
           f"-artifact_prefix={artifacts}/", corpus] + dirs
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1:symbolize=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       errors="replace")
    sys.stderr.write(r.stderr[-20000:])
    runs = stat(r.stderr, "number_of_executed_units")
    rate = stat(r.stderr, "average_exec_per_sec")
    what = failure(r.stderr)
    if r.returncode or what:
        found = re.findall(r"Test unit written to (\S+)", r.stderr)
        print(f"summary: fuzz_{target}: FAILED after {runs or 0} runs: "
              f"{what or 'exit %d' % r.returncode}"
              + (f" (reproducer {found[-1]})" if found else ""))
        return 1
    print(f"summary: fuzz_{target}: {seconds} s, {runs} runs ({rate}/s), "
          f"{len(os.listdir(corpus))} corpus inputs from {n} seeds; no "
          f"crash, leak, timeout or disagreement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
