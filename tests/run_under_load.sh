#!/usr/bin/env bash
# The suite three times in a row on a fresh clone of main, with a CPU burner beside it (issue 13:
# tests wait for conditions, never fixed times, so a busy machine must not fail them).
# Usage: bash tests/run_under_load.sh [WORKDIR]   (about 80 minutes on 2 cores)
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/cdi-under-load.XXXXXX)}"
git clone -q "$repo" "$work/clone" || exit 1
cd "$work/clone" || exit 1
python3 -c 'while True: pass' &
burner=$!
trap 'kill $burner 2>/dev/null' EXIT
failed=0
for run in 1 2 3; do
  started=$(date +%s)
  if [ "$run" = 1 ]; then bash .ci/run > "$work/run-$run.log" 2>&1; else bash tests/run.sh > "$work/run-$run.log" 2>&1; fi
  code=$?
  echo "run $run: exit $code in $(( $(date +%s) - started )) s; $(grep -E '(passed|failed)' "$work/run-$run.log" | tail -1)"
  [ "$code" = 0 ] || failed=1
done
echo "logs in $work"
exit $failed
