#!/bin/bash
# Measure the single-worker gateway as it was at a past commit, with this checkout's bench harness,
# so a before/after table compares code and nothing else (same harness, machine and workloads).
# usage: bench/at_commit.sh COMMIT...   (or: make bench-at COMMITS="978c820 HEAD")
# Each commit runs in a throwaway worktree under ${TMPDIR:-/tmp}; results stay there, not in bench/results.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
python=${BENCH_PYTHON:-$root/.venv/bin/python}
for rev in "$@"; do
  c=$(git -C "$root" rev-parse --short "$rev")
  wt=${TMPDIR:-/tmp}/bench-at-$c
  [ -d "$wt" ] || git -C "$root" worktree add -q --detach "$wt" "$c"
  rm -rf "$wt/bench" && mkdir -p "$wt/bench"
  (cd "$root" && tar cf - --exclude=bench/results/raw --exclude=bench/peer/node_modules bench) | (cd "$wt" && tar xf -)
  log=$wt/bench-at.log
  if ! (cd "$wt" && BENCH_SYSTEMS=gateway BENCH_WORKLOADS=${BENCH_WORKLOADS:-order-page,history} \
        BENCH_LATENCIES=${BENCH_LATENCIES:-0} BENCH_SOAK_SECONDS=0 PYTHONPATH="$wt/src:$wt" \
        timeout 900 "$python" -m bench.run >"$log" 2>&1); then
    tail -20 "$log"; exit 1
  fi
  echo "== $c $(git -C "$root" log -1 --format=%s "$c" | cut -c1-90)"
  grep -E "gateway (order-page|history|mixed)" "$log" | sed 's/^\[bench [0-9:]*\] *//'
  git -C "$root" worktree remove --force "$wt"
done
