#!/usr/bin/env python3
"""Embeds a file as a C array: embed_file.py INPUT OUTPUT.c SYMBOL

Writes `const char SYMBOL[]` (NUL-terminated) and `const size_t
SYMBOL_len` (without the NUL), e.g. the OpenAPI document the read API
serves.
"""
import sys


def main():
    src, out, sym = sys.argv[1], sys.argv[2], sys.argv[3]
    data = open(src, "rb").read()
    with open(out, "w") as f:
        f.write(f"/* generated from {src.split('/')[-1]} by embed_file.py */\n")
        f.write("#include <stddef.h>\n\n")
        f.write(f"const char {sym}[] = {{\n")
        for i in range(0, len(data), 16):
            f.write("  " + ", ".join(str(b) for b in data[i:i + 16]) + ",\n")
        f.write("  0};\n")
        f.write(f"const size_t {sym}_len = {len(data)};\n")


if __name__ == "__main__":
    main()
