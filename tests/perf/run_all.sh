#!/usr/bin/env bash
# Run every benchmark under tests/perf/ (bench_*.py) in turn with the project's venv.
# The environment passes through (DATABASE_URL, NBAUDIT_*, ...). A failing benchmark does
# not stop the others; the exit status is non-zero if any failed.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
cd "$root" || exit 1
failed=()
shopt -s nullglob
benches=("$here"/bench_*.py)
if [ ${#benches[@]} -eq 0 ]; then
    echo "no benchmarks in $here"
    exit 0
fi
for bench in "${benches[@]}"; do
    name="$(basename "$bench")"
    echo "=== $name ==="
    start=$(date +%s)
    if "$py" "$bench"; then
        echo "=== $name: ok ($(( $(date +%s) - start )) s)"
    else
        status=$?
        echo "=== $name: FAILED (exit $status)"
        failed+=("$name")
    fi
    echo
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all benchmarks ran"
