#!/bin/sh
# Checks repository conventions: every migration is compiled in, the top
# level holds only the agreed entries, no source file is git-ignored.
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
        meson.build|meson_options.txt|src|contracts|migrations|config|tests|bench|deploy|README.md|.ci|dev|.clang-format|.gitignore) ;;
        *) echo "unexpected top-level entry: $e"; fail=1 ;;
        esac
done
# A source file that .gitignore hides never reaches a clone (the pattern
# "core" for core dumps once hid src/core/meson.build).
for f in $(cd "$src" && git ls-files --others --ignored --exclude-standard \
                -- '*.c' '*.h' '*meson.build' '*.py' '*.sh' 2>/dev/null |
                grep -Ev '^(build|\.dev/)'); do
        echo "source file ignored by .gitignore: $f"
        fail=1
done
[ $fail = 0 ] && echo "summary: migrations listed, top level as agreed, no source ignored"
exit $fail
