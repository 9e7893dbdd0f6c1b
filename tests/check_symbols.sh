#!/bin/sh
# Fails when a layer library exports a symbol that does not carry its
# module's prefix (STYLE.md rule 2): a global of src/LAYER/red_MOD.c is
# red_MOD or red_MOD_..., where MOD may stop at any '_' of the file's name
# (red_pipeline_batch.c exports red_pipeline_batch_add or red_pipeline_...;
# the files that make up one module share its prefix).
# Usage: check_symbols.sh LIB...
set -eu
total=0
fail=0
for lib in "$@"; do
        out=$(nm -g --defined-only -A "$lib" | awk '
                NF == 3 && $2 ~ /^[TDBRCGSVW]$/ {
                        n = split($1, path, ":")
                        obj = path[n - 1]
                        sub(/^.*[\/]/, "", obj)
                        sub(/^meson-generated_\.\._/, "", obj)
                        sub(/\.c\.o$/, "", obj)
                        sym = $3
                        # instrumentation of a sanitizer build
                        if (sym ~ /^__(odr_asan|asan|ubsan)/)
                                next
                        total++
                        k = split(obj, part, "_")
                        ok = 0
                        pre = part[1]
                        for (i = 2; i <= k; i++) {
                                pre = pre "_" part[i]
                                if (sym == pre || index(sym, pre "_") == 1)
                                        ok = 1
                        }
                        if (!ok)
                                printf "  %s (%s.c)\n", sym, obj
                }
                END { printf "total %d\n", total }')
        bad=$(printf '%s\n' "$out" | grep -v '^total ' || true)
        if [ -n "$bad" ]; then
                echo "$(basename "$lib"): exported symbols without their module's prefix:"
                echo "$bad"
                fail=1
        fi
        total=$((total + $(printf '%s\n' "$out" | sed -n 's/^total //p')))
done
if [ "$total" -lt 50 ]; then
        echo "only $total exported symbols found in $*; are they the right files?"
        exit 1
fi
[ $fail = 0 ] || exit 1
echo "summary: $total exported symbols in $# libraries, each with its module's prefix (red_<module>_)"
