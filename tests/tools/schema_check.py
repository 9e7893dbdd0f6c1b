#!/usr/bin/python3
"""Validates events against the contract JSON Schemas (for test_schemas).

Usage: schema_check.py SCHEMA_DIR CONTRACT_NAME CASES.jsonl   ("-": stdin)

Each line of CASES.jsonl is {"kind": K, "event": {...}} or {"kind": K, "raw": "text"}
(raw text is parsed here, as a producer's bytes would be, as strict JSON:
Python's json module would read the bare words NaN, Infinity and -Infinity,
which json.dumps writes for such floats, but they are not JSON and reducerd
dead-letters them as invalid_json; here they make the case invalid too, so
that both sides agree). Prints one line
per case: "valid", or "invalid<TAB>reason". Every schema file is first
checked against the draft 2020-12 meta-schema. Uses Debian's
python3-jsonschema (Draft202012Validator) and nothing from the network:
$refs resolve from the files under SCHEMA_DIR.
"""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator, RefResolver


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    contract = sys.argv[2]
    store = {}
    for path in sorted(root.rglob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        store[path.as_uri()] = schema
    validators = {}
    cases = sys.stdin if sys.argv[3] == "-" else open(sys.argv[3], encoding="utf-8")
    for line in cases:
        case = json.loads(line, parse_constant=_reject)
        kind = case["kind"]
        if kind not in validators:
            uri = (root / contract / f"{kind}.schema.json").as_uri()
            resolver = RefResolver(base_uri=uri, referrer=store[uri], store=store)
            validators[kind] = Draft202012Validator(store[uri], resolver=resolver)
        if "raw" in case:
            try:
                # strict JSON, as the decoder reads it: no NaN or Infinity
                event = json.loads(case["raw"], parse_constant=_reject)
            except ValueError as e:
                print(f"invalid\tnot JSON: {e}")
                continue
        else:
            event = case["event"]
        errors = sorted(validators[kind].iter_errors(event), key=lambda e: e.path)
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"invalid\t{where}: {e.message}"[:300].replace("\n", " "))
        else:
            print("valid")
    return 0


def _reject(name):
    raise ValueError(f"{name} is not JSON")


if __name__ == "__main__":
    sys.exit(main())
