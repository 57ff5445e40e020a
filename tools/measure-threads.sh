#!/usr/bin/env bash
# The thread figures of docs/performance.md ("Threads"): generate, notebook run and the toolkit's tests, on 1 and 2
# threads, on a quiet machine and with both cores kept busy by two `yes` loops. Prints one line per run (wall seconds).
# Usage, from the repository root after `dotnet build src/VqganClip.Tool -c Release && dotnet build tests/VqganClip.Tests`:
#   tools/measure-threads.sh            # the default policy
#   GOMP_SPINCOUNT=30000 tools/measure-threads.sh ; OMP_WAIT_POLICY=PASSIVE tools/measure-threads.sh   # others
set -u
BIN=src/VqganClip.Tool/bin/Release/net10.0/vqgan-clip.dll
timed() {
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local start; start=$(date +%s.%N)
  "$@" > /dev/null 2>&1; local rc=$?
  printf '%s | rc=%s | %.1f s | load before %s\n' "$label" "$rc" "$(echo "$(date +%s.%N) - $start" | bc)" "$load"
}
for mode in quiet busy; do
  if [ "$mode" = busy ]; then yes > /dev/null & Y1=$!; yes > /dev/null & Y2=$!; sleep 2; fi
  for t in 1 2; do
    timed "$mode, $t thread(s), generate 100 steps" dotnet $BIN generate "a red star above a blue house" --steps 100 --seed 1 --threads $t --out /tmp/threads-g.png
    timed "$mode, $t thread(s), notebook run 02" dotnet $BIN notebook run notebooks/02-step-by-step.ipynb --threads $t --out /tmp/threads-nb.ipynb
    timed "$mode, $t thread(s), VqganClip.Tests" env OMP_NUM_THREADS=$t dotnet test tests/VqganClip.Tests --no-build
  done
  if [ "$mode" = busy ]; then kill $Y1 $Y2; wait $Y1 $Y2 2>/dev/null; fi
done
