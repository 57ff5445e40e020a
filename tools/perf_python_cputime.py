"""Runs ../shared/tools/perf_python.py (or $PERF_PYTHON) with its step clock replaced by the calling thread's CPU time
(time.thread_time, CLOCK_THREAD_CPUTIME_ID), the clock `vqgan-clip bench` reports as thread_cpu_s_per_step_median.
With --threads 1 every kernel runs on that thread, so on a busy shared machine this compares the work of a step
without the waits for a core. Same arguments as perf_python.py; the JSON's s_per_step* fields are then CPU seconds
and "clock" says so.
  REF_SRC=<upstream sources> /usr/bin/python3 tools/perf_python_cputime.py loop C --steps 30 --threads 1
"""
import importlib.util, json, os, sys, time, io, contextlib

here = os.path.dirname(os.path.abspath(__file__))
path = os.environ.get("PERF_PYTHON", os.path.join(here, "..", "..", "shared", "tools", "perf_python.py"))
spec = importlib.util.spec_from_file_location("perf_python", path)
pp = importlib.util.module_from_spec(spec)
sys.argv[0] = path
spec.loader.exec_module(pp)
pp.time.perf_counter = time.thread_time   # the module's own `time` is the stdlib module: patch its clock for the loop
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    pp.main()
for line in buf.getvalue().splitlines():
    try:
        d = json.loads(line)
        d["clock"] = "thread_time (CPU seconds of the calling thread)"
        print(json.dumps(d))
    except ValueError:
        print(line)
