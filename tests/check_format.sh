#!/bin/sh
# Fails when a C file of src/, tests/ or bench/ differs from what
# clang-format makes of it with the committed .clang-format.
# Fix with: find src tests bench -name '*.[ch]' | xargs clang-format -i
set -eu
cd "$1"
cf=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$cf" ]; then
        echo "clang-format is not installed (Debian package clang-format; ./dev installs it)"
        exit 1
fi
files=$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' 2>/dev/null ||
        find src tests bench -name '*.[ch]')
bad=0
for f in $files; do
        if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
                echo "$f: not formatted (clang-format -i $f)"
                bad=$((bad + 1))
        fi
done
n=$(printf '%s\n' $files | wc -l)
if [ $bad -gt 0 ]; then
        echo "$bad of $n files not formatted"
        exit 1
fi
echo "summary: $n files formatted as .clang-format says"
