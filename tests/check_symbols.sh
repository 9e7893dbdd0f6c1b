#!/bin/sh
# Fails when a layer library exports a symbol without the red_ prefix
# (STYLE.md rule 2): every global must be red_<mod>_<verb>.
# Usage: check_symbols.sh LIB...
set -eu
total=0
fail=0
for lib in "$@"; do
        syms=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /^[TDBRCGSVW]$/ { print $3 }')
        # __odr_asan, __asan, __ubsan: instrumentation of a sanitizer build
        bad=$(printf '%s\n' "$syms" | grep -v '^red_' | grep -v '^$' |
                grep -Ev '^__(odr_asan|asan|ubsan)' || true)
        if [ -n "$bad" ]; then
                echo "$(basename "$lib"): exported symbols without the red_ prefix:"
                echo "$bad"
                fail=1
        fi
        total=$((total + $(printf '%s\n' "$syms" | grep -c . || true)))
done
if [ "$total" -lt 50 ]; then
        echo "only $total exported symbols found in $*; are they the right files?"
        exit 1
fi
[ $fail = 0 ] || exit 1
echo "summary: $total exported symbols in $# libraries, all prefixed red_"
