"""Lesson 02's CPython twin: the notes' threading examples, measured on this interpreter.

1. `print_with_delay` with delays of 5, 2 and 3 units, one call after another and then on
   three threads: the waits overlap, and the threads finish in the order of their delays.
2. What it costs to start a thread and join it, against a process (`multiprocessing`).
3. Where a thread's return value goes: `threading.Thread` throws it away; a shared list
   that every thread appends to collects the results, in the order the threads finish.

Prints one JSON document: the messages (sorted, as the Rust lesson's answer) and the order
they were printed in, every answer, and the time each part
took (perf_counter for wall time, process_time for this process's CPU time, os.times for the
CPU time of the children it reaped). The messages themselves go to stderr, as the notes
print them. Standard library only.

    python3 threads.py --unit 100 --samples 300
"""

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import sysconfig
import threading
import time

DELAYS = [5, 2, 3]
STRINGS = ["here's a string" * 10_000, "here's another" * 10_000, "watch out for a third"]


def print_with_delay(delay_s, message, printed):
    """The notes' function: sleeps, then prints. `printed` keeps the order for the report."""
    time.sleep(delay_s)
    print(message, file=sys.stderr, flush=True)
    printed.append(message)


def messages(unit_s):
    return [(d * unit_s, "hello with delay %d" % d) for d in DELAYS]


def one_after_another(unit_s):
    printed = []
    for delay_s, message in messages(unit_s):
        print_with_delay(delay_s, message, printed)
    return printed


def on_three_threads(unit_s):
    printed = []
    threads = [threading.Thread(target=print_with_delay, args=(d, m, printed)) for d, m in messages(unit_s)]
    for thread in threads:
        thread.start()
    for thread in threads:  # joined in the notes' order, t1, t2, t3
        thread.join()
    return printed


def do_nothing():
    pass


def cost_of_starting(start, samples, budget_s):
    """Seconds to start a worker and join it, one at a time (each time, their median and the
    best): at most `samples` of them, fewer if they take longer than `budget_s` in all."""
    times = []
    begun = time.perf_counter()
    while len(times) < samples and time.perf_counter() - begun < budget_s:
        started = time.perf_counter()
        worker = start()
        worker.join()
        times.append(time.perf_counter() - started)
    return {"samples": len(times), "median_s": statistics.median(times), "best_s": min(times), "times_s": times}


def start_thread():
    thread = threading.Thread(target=do_nothing)
    thread.start()
    return thread


def start_process():
    process = multiprocessing.Process(target=do_nothing)
    process.start()
    return process


def count_string(string):
    """The notes' function: a string's length."""
    return len(string)


def count_and_store(string, results):
    """The notes' fix: the thread appends its result to a list everyone shares."""
    results.append(len(string))


def returns_thrown_away():
    """What `threading.Thread` does with a target's return value: nothing. `join` returns None."""
    threads = [threading.Thread(target=count_string, args=(s,)) for s in STRINGS]
    for thread in threads:
        thread.start()
    return [thread.join() for thread in threads]


def results_in_a_shared_list():
    """The results, collected in the order the threads finished, and what the list held
    right after the threads were started (before any join)."""
    results = []
    threads = [threading.Thread(target=count_and_store, args=(s, results)) for s in STRINGS]
    for thread in threads:
        thread.start()
    right_after_start = list(results)
    for thread in threads:
        thread.join()
    return results, right_after_start


def clock():
    children = os.times()
    return time.perf_counter(), time.process_time(), children.children_user + children.children_system


def measured(work):
    wall, cpu, children = clock()
    answer = work()
    wall2, cpu2, children2 = clock()
    return answer, {"wall_s": wall2 - wall, "cpu_s": cpu2 - cpu, "children_cpu_s": children2 - children}


def interpreter():
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "gil_enabled": is_gil_enabled() if is_gil_enabled else None,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "switch_interval_s": sys.getswitchinterval(),
        "start_method": multiprocessing.get_start_method(),
    }


def main():
    parser = argparse.ArgumentParser(
        description="The notes' threading examples on this CPython: print_with_delay one after "
        "another and on three threads, the cost of starting a thread and a process, and where "
        "a thread's return value goes. Prints one JSON document (the messages go to stderr)."
    )
    parser.add_argument("--unit", type=int, help="the notes' second, in milliseconds (default 100, or 10 with --quick)")
    parser.add_argument("--samples", type=int, help="threads and processes started to time each (default 300, or 30 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes: well under a second")
    args = parser.parse_args()
    unit_s = (args.unit or (10 if args.quick else 100)) / 1000
    samples = args.samples or (30 if args.quick else 300)
    if unit_s <= 0 or samples < 1:
        parser.error("--unit and --samples must be at least 1")
    budget_s = 0.3 if args.quick else 3.0

    sequential, sequential_time = measured(lambda: one_after_another(unit_s))
    threaded, threaded_time = measured(lambda: on_three_threads(unit_s))
    thrown_away = returns_thrown_away()
    (collected, right_after_start), _ = measured(results_in_a_shared_list)
    thread_cost = cost_of_starting(start_thread, samples, budget_s)
    process_cost = cost_of_starting(start_process, samples, budget_s)

    json.dump({
        "twin": "lesson02_threads",
        "python": interpreter(),
        "params": {"unit_s": unit_s, "samples": samples, "delays": DELAYS},
        "answers": {
            "messages": sorted(threaded),
            "finish_order": threaded,
            "lengths": [count_string(s) for s in STRINGS],
            "collected_sorted": sorted(collected),
        },
        "variants": [
            {"workload": "print_with_delay", "name": "one after another", "workers": 1, "kind": "sequential", "answers": [sorted(sequential)], "printed": sequential, "samples": [sequential_time]},
            {"workload": "print_with_delay", "name": "three threads", "workers": 3, "kind": "threads", "answers": [sorted(threaded)], "printed": threaded, "samples": [threaded_time]},
        ],
        "returned_by_join": thrown_away,
        "shared_list": {"collected": collected, "right_after_start": right_after_start},
        "start_and_join": {"thread": thread_cost, "process": process_cost},
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
