#!/usr/bin/python3
"""Executes every example of the read API's OpenAPI document.

Usage: openapi_examples.py DOCUMENT BASE_URL

For each operation, every example name found on its parameters is one
request: the parameters that have an example of that name take its value,
path parameters without one take their first example. An operation is also
requested once with only its path parameters when it has no required query
parameter. Every request must answer 200; a JSON answer must validate
against the operation's 200 application/json schema (JSON Schema 2020-12,
with the document's components), a text/plain one must be non-empty.
Prints one line per request and "N examples executed"; exits 1 on the
first failure.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import jsonschema


def fetch(url, method="GET", body=None):
    headers = {"Accept-Encoding": "identity"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers=headers,
                                 method=method.upper())
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def main():
    doc = json.load(open(sys.argv[1]))
    base = sys.argv[2].rstrip("/")
    resolver = jsonschema.RefResolver.from_schema(doc)
    runs = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            content = op.get("requestBody", {}).get("content", {}).get(
                "application/json", {})
            bodies = content.get("examples", {})
            names = []
            for ex in [prm.get("examples", {}) for prm in params] + [bodies]:
                for name in ex:
                    if name not in names:
                        names.append(name)
            required_query = any(prm.get("required") and prm["in"] == "query"
                                 for prm in params)
            sets = [(name, name) for name in names]
            if not required_query:
                sets.append(("(no query parameters)", None))
            ok = min(code for code in op["responses"] if code.startswith("2"))
            for label, name in sets:
                url_path, query, body = path, [], None
                for prm in params:
                    ex = prm.get("examples", {})
                    if prm["in"] == "path":
                        value = (ex.get(name) or next(iter(ex.values())))["value"]
                        url_path = url_path.replace("{%s}" % prm["name"],
                                                    urllib.parse.quote(str(value), safe=""))
                    elif name in ex:
                        query.append((prm["name"], str(ex[name]["value"])))
                if bodies and (name in bodies or op["requestBody"].get("required")):
                    body = (bodies.get(name) or next(iter(bodies.values())))["value"]
                    jsonschema.Draft202012Validator(
                        content["schema"], resolver=resolver).validate(body)
                url = base + url_path
                if query:
                    url += "?" + urllib.parse.urlencode(query)
                status, ctype, answer = fetch(url, method, body)
                print(f"{op['operationId']} [{label}]: {status} {method.upper()} {url}")
                if str(status) != ok:
                    sys.exit(f"{op['operationId']} [{label}]: HTTP {status}, not {ok}: "
                             f"{answer[:500].decode(errors='replace')}")
                if ctype.startswith("application/json"):
                    schema = op["responses"][ok]["content"][
                        "application/json"]["schema"]
                    jsonschema.Draft202012Validator(
                        schema, resolver=resolver).validate(json.loads(answer))
                elif not answer:
                    sys.exit(f"{op['operationId']} [{label}]: empty {ctype}")
                runs += 1
    print(f"{runs} examples executed")


if __name__ == "__main__":
    main()
