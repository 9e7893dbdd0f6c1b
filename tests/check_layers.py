#!/usr/bin/env python3
"""Checks the layering of src/ (DESIGN.md "Layout").

Usage: check_layers.py SRCDIR [LIB ...]

- every #include "..." in src/<layer>/ names a header of the same layer or
  of a layer below it (base < core < pg < kafka < app);
- no include circle between modules (red_x.c and red_x.h are one module);
- the base and core libraries reference no librdkafka, libpq or
  libmicrohttpd symbol, and core no pthread symbol (nm -u on the LIBs);
- src/README.md lists every module under its layer, and nothing else.
"""
import os
import re
import subprocess
import sys

LAYERS = ["base", "core", "pg", "kafka", "app"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
FORBIDDEN = {
    "base": ("rd_kafka_", "PQ", "MHD_"),
    "core": ("rd_kafka_", "PQ", "MHD_", "pthread_"),
}


def module(name):
    return re.sub(r"\.(c|h)$", "", name)


def main():
    src = os.path.join(sys.argv[1], "src")
    problems = []
    where = {}  # header -> layer
    files = []  # (layer, name)
    for layer in LAYERS:
        for name in sorted(os.listdir(os.path.join(src, layer))):
            if name.endswith((".c", ".h")):
                files.append((layer, name))
                if name.endswith(".h"):
                    where[name] = layer
    for name in sorted(os.listdir(src)):
        if name.endswith((".c", ".h")):
            problems.append(f"src/{name}: source outside a layer folder")

    graph = {}
    for layer, name in files:
        with open(os.path.join(src, layer, name), encoding="utf-8") as f:
            text = f.read()
        node = module(name)
        graph.setdefault(node, set())
        for inc in INCLUDE.findall(text):
            if inc not in where:
                problems.append(f"src/{layer}/{name}: includes \"{inc}\", "
                                "which is no header of src/")
                continue
            if LAYERS.index(where[inc]) > LAYERS.index(layer):
                problems.append(
                    f"src/{layer}/{name}: includes \"{inc}\" of the higher "
                    f"layer {where[inc]} (allowed: {', '.join(LAYERS[:LAYERS.index(layer) + 1])})")
            if module(inc) != node:
                graph[node].add(module(inc))

    # include circles: depth-first search with colours
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                cycle = stack[stack.index(m):] + [m]
                problems.append("include circle: " + " -> ".join(cycle))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)

    # src/README.md: "## <layer>/ ..." headings, "- `red_x` — ..." lines
    listed, layer_of = {}, None
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        for line in f:
            h = re.match(r"^## (\w+)/", line)
            if h:
                layer_of = h.group(1)
            m = re.match(r"^- `(red_\w+)`", line)
            if m and layer_of:
                listed[m.group(1)] = layer_of
    actual = {module(name): layer for layer, name in files
              if name.startswith("red_")}
    for m, layer in sorted(actual.items()):
        if listed.get(m) != layer:
            problems.append(f"src/README.md: module {m} of src/{layer} is "
                            "not listed under its layer")
    for m in sorted(set(listed) - set(actual)):
        problems.append(f"src/README.md lists {m}, which is no module")

    for lib in sys.argv[2:]:
        layer = re.sub(r"^libred_(\w+)\.a$", r"\1", os.path.basename(lib))
        if layer not in FORBIDDEN:
            continue
        out = subprocess.run(["nm", "-u", lib], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            sym = line.split()[-1] if line.split() else ""
            if sym.startswith(FORBIDDEN[layer]):
                problems.append(f"{os.path.basename(lib)}: uses {sym}, "
                                f"which the {layer} layer must not")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"summary: {len(files)} files in {len(LAYERS)} layers, "
          f"{len(graph)} modules, includes only downwards, no circles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
