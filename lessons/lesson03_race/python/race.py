"""Lesson 03's CPython twin: threads adding 1 to one shared counter, on this interpreter.

`counter += 1` is three steps in CPython's bytecode: load the counter, add 1, store it back.
An update is lost when another thread stores between our load and our store. Whether that
can happen depends on where the interpreter lets threads change places:

- with a GIL, only one thread runs Python code at a time. CPython 3.10 and later hands the
  GIL over only at certain points (a call, the backward jump of a loop), and there is none
  between the load and the store of `counter += 1`: that line rarely, if ever, loses an
  update there (before 3.10, the GIL could change hands between almost any two bytecodes);
- with a call between the load and the store, the hand-over can fall inside the gap, and
  the other thread's updates made meanwhile are overwritten: updates are lost;
- without a GIL (the free-threaded build, `python3.13t`), threads run at the same moment and
  any gap can be hit;
- a lock around the three steps makes every variant exact.

Prints one JSON document: the totals each variant reached, how many updates it lost, the
bytecode between its load and its store, and the time each run took (perf_counter for wall
time, process_time for the CPU time of all threads). Standard library only.

    python3 race.py --threads 2 --increments 1000000
"""

import argparse
import dis
import json
import platform
import sys
import sysconfig
import threading
import time

counter = 0
lock = threading.Lock()


def pause():
    """Does nothing: a call between the load and the store, where the GIL may change hands."""


def add_with_plus_equals(increments):
    """The notes' line, `counter += 1`, `increments` times."""
    global counter
    for _ in range(increments):
        counter += 1


def add_with_load_then_store(increments):
    """The same three steps, written out: still nothing between the load and the store."""
    global counter
    for _ in range(increments):
        value = counter
        counter = value + 1


def add_with_call_between(increments):
    """A call between the load and the store. This version is problematic: it loses updates."""
    global counter
    for _ in range(increments):
        value = counter
        pause()  # the GIL may be handed to another thread here, which then adds to `counter`
        counter = value + 1  # ... and this store writes over everything it added


def add_with_lock(increments):
    """The same call between load and store, with a lock held around all three steps."""
    global counter
    for _ in range(increments):
        with lock:  # the fix: no other thread can load or store until we have stored
            value = counter
            pause()
            counter = value + 1


VARIANTS = [
    ("counter += 1", add_with_plus_equals),
    ("value = counter; counter = value + 1", add_with_load_then_store),
    ("a call between the load and the store", add_with_call_between),
    ("with a lock", add_with_lock),
]


def count_on_threads(add, n_threads, increments):
    """Starts `n_threads` threads that each run `add(increments)` once all of them exist (a
    barrier, so that they overlap), joins them, and returns the counter."""
    global counter
    counter = 0
    start_line = threading.Barrier(n_threads)

    def worker():
        start_line.wait()
        add(increments)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter


def between_load_and_store(function):
    """The bytecode from the load of `counter` to its store, as this interpreter compiled it."""
    steps, inside = [], False
    for instruction in dis.get_instructions(function):
        names_counter = instruction.argval == "counter"
        if names_counter and "LOAD" in instruction.opname:
            inside = True
        if inside and instruction.opname not in ("CACHE", "EXTENDED_ARG"):
            steps.append((instruction.opname + " " + instruction.argrepr).strip())
        if inside and names_counter and "STORE" in instruction.opname:
            return steps
    return steps


def interpreter():
    """Which Python this is, and whether it has a GIL (None where it cannot say)."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "gil_enabled": is_gil_enabled() if is_gil_enabled else None,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "switch_interval_s": sys.getswitchinterval(),
    }


def measured(work):
    """Runs `work()` once: its answer, and the wall and CPU time it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    answer = work()
    return answer, {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "children_cpu_s": 0.0,
    }


def main():
    parser = argparse.ArgumentParser(
        description="Threads add 1 to one shared counter on this CPython, four ways: `counter "
        "+= 1`, the load and store written out, a call between them, and with a lock. Prints "
        "one JSON document with the totals, the updates lost and the time taken."
    )
    parser.add_argument("--threads", type=int, default=2, help="threads sharing the counter (default 2)")
    parser.add_argument("--increments", type=int, help="increments per thread (default 1,000,000, or 200,000 with --quick)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each variant (default 1)")
    parser.add_argument("--quick", action="store_true", help="small sizes: done in well under a second")
    args = parser.parse_args()
    increments = args.increments or (200_000 if args.quick else 1_000_000)
    if args.threads < 1 or increments < 1 or args.runs < 1:
        parser.error("--threads, --increments and --runs must be at least 1")
    expected = args.threads * increments

    variants = []
    for name, add in VARIANTS:
        totals, samples = [], []
        for _ in range(args.runs):
            total, sample = measured(lambda: count_on_threads(add, args.threads, increments))
            totals.append(total)
            samples.append(sample)
        variants.append({
            "workload": "counter",
            "name": name,
            "workers": args.threads,
            "kind": "threads",
            "answers": totals,
            "lost_updates": [expected - total for total in totals],
            "between_load_and_store": between_load_and_store(add),
            "samples": samples,
        })
    json.dump({
        "twin": "lesson03_race",
        "python": interpreter(),
        "params": {"threads": args.threads, "increments": increments, "runs": args.runs},
        "answers": {"expected": expected},
        "variants": variants,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
