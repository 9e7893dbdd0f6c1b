#!/bin/sh
# Fails when the engine library exports a symbol without the red_ prefix
# (STYLE.md rule 2): every global must be red_<mod>_<verb>.
set -eu
lib=$1
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /^[TDBRCGSVW]$/ { print $3 }' |
        grep -v '^red_' || true)
total=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /^[TDBRCGSVW]$/' | wc -l)
if [ -n "$bad" ]; then
        echo "exported symbols without the red_ prefix:"
        echo "$bad"
        exit 1
fi
if [ "$total" -lt 50 ]; then
        echo "only $total exported symbols found in $lib; is it the right file?"
        exit 1
fi
echo "summary: $total exported symbols, all prefixed red_"
