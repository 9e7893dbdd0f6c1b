#!/bin/sh
# Checks repository conventions: every migration is compiled in, the top
# level holds only the agreed entries.
set -eu
src=$1
fail=0
for f in "$src"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
        name=$(basename "$f")
        grep -q "'$name'" "$src/migrations/meson.build" || {
                echo "migrations/$name is not listed in migrations/meson.build"
                fail=1
        }
done
for e in $(cd "$src" && git ls-files 2>/dev/null | cut -d/ -f1 | sort -u); do
        case "$e" in
        meson.build|src|contracts|migrations|config|tests|bench|deploy|README.md|.ci|dev|.clang-format|.gitignore) ;;
        *) echo "unexpected top-level entry: $e"; fail=1 ;;
        esac
done
[ $fail = 0 ] && echo "summary: migrations listed, top level as agreed"
exit $fail
