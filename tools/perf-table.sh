#!/usr/bin/env bash
# The whole table of docs/performance.md (issue 25): configs C, B and A at 1 and 2 threads, ours and the PyTorch
# reference back to back. At 1 thread the reference runs twice: on one core (OPENBLAS_NUM_THREADS=1) and with
# OpenBLAS's own thread pool ("default", about 1.5 cores). Each line: label, load, s/step median, CPU% of the process.
# With OTHER=path/to/vqgan-clip.dll (an older build: it takes `bench --config`, this one `bench loop --config`) that
# build runs beside ours at 1 thread, so the two are compared on the same machine in the same minutes.
# Usage, from the repository root, on a quiet machine, after `dotnet build src/VqganClip.Tool -c Release`:
#   REF_SRC=/path/to/sources tools/perf-table.sh [REPS]        # REPS pairs of C and B (default 2); A once
#   REF_SRC=... OTHER=/old/src/VqganClip.Cli/bin/Release/net10.0/vqgan-clip.dll tools/perf-table.sh
set -u
: "${REF_SRC:?set REF_SRC to the upstream sources (docs/performance.md, Measuring)}"
export REF_SRC
REPS=${1:-2}
OURS="dotnet src/VqganClip.Tool/bin/Release/net10.0/vqgan-clip.dll bench loop"
REF="/usr/bin/python3 ../shared/tools/perf_python.py loop"
run() {
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local out; out=$( { /usr/bin/time -f "cpu %P" "$@"; } 2>&1 )
  local s; s=$(grep -o -E '"s_per_step_median": ?[0-9.]+' <<< "$out" | grep -o -E '[0-9.]+$')
  printf '%-22s | load %s | %s s/step | %s\n' "$label" "$load" "${s:-FAILED}" "$(grep -o -E '^cpu [0-9]+%' <<< "$out")"
}
config() {  # config steps-ours steps-ref threads
  local c=$1 so=$2 sr=$3 t=$4
  [ -n "${OTHER:-}" ] && [ "$t" = 1 ] && run "$c other t$t" dotnet "$OTHER" bench --config "$c" --steps "$so" --threads "$t" --json --no-ceiling
  run "$c ours t$t" $OURS --config "$c" --steps "$so" --threads "$t" --json --no-ceiling
  [ "$t" = 1 ] && run "$c ref one core t1" env OPENBLAS_NUM_THREADS=1 $REF "$c" --steps "$sr" --threads 1
  run "$c ref default t$t" $REF "$c" --steps "$sr" --threads "$t"
}
grep -m1 'model name' /proc/cpuinfo
for _ in $(seq "$REPS"); do for t in 1 2; do config C 60 60 $t; done; done
for _ in $(seq "$REPS"); do for t in 1 2; do config B 8 4 $t; done; done
for t in 1 2; do config A 4 4 $t; done
