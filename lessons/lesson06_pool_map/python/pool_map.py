"""Lesson 06's CPython twin: the notes' `pool.map` programs, timed on this interpreter.

1. Word count of the notes' 300 short strings: one after another, a thread per string, and
   a `multiprocessing.Pool` made for the call (as the notes' `parallel_word_count` does).
   The work is tiny, so every parallel version loses to the plain loop: starting threads and
   processes costs more than the counting.
2. The notes' `count_prime(n)`, which (despite its name) counts the divisors of n in
   2..n-2, on their four numbers, one after another and with `Pool.map`: real work, where a
   pool can pay. The time per loop iteration is CPython's cost of one `n % i == 0` step.

Prints one JSON document: every variant's answer and its wall time (perf_counter), this
process's CPU time (process_time) and the CPU time of the pool's processes (os.times, counted
once the pool has reaped them). Standard library only.

    python3 pool_map.py --workers 4 --numbers 77000000,74000000,73000000,71000000
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import sysconfig
import threading
import time

# The notes' three lines; their input is these lines repeated 100 times.
LINES = ["hello world", "this is another line", "this is yet another line"]
NUMBERS = [77_000_000, 74_000_000, 73_000_000, 71_000_000]


def word_count(string):
    """The notes' word count of one string."""
    return len(string.split())


def sequential_word_count(strings):
    return sum(word_count(string) for string in strings)


def thread_word_count(string, results):
    results.append(word_count(string))


def concurrent_word_count(strings):
    """A thread per string, all started, then all joined; each appends to one shared list."""
    results = []
    threads = [threading.Thread(target=thread_word_count, args=(s, results)) for s in strings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(results)


def parallel_word_count(strings, n_workers):
    """A pool of processes made for this call, as the notes do."""
    with multiprocessing.Pool(processes=n_workers) as pool:
        return sum(pool.map(word_count, strings))


def count_prime(n):
    """The notes' function: counts the i in 2..n-2 that divide n (every divisor but 1 and n)."""
    counter = 0
    for i in range(2, n - 1):
        if n % i == 0:
            counter += 1
    return counter


def pool_count_prime(numbers, n_workers):
    with multiprocessing.Pool(processes=n_workers) as pool:
        return pool.map(count_prime, numbers)


def clock():
    children = os.times()
    return time.perf_counter(), time.process_time(), children.children_user + children.children_system


def measured(work):
    wall, cpu, children = clock()
    answer = work()
    wall2, cpu2, children2 = clock()
    return answer, {"wall_s": wall2 - wall, "cpu_s": cpu2 - cpu, "children_cpu_s": children2 - children}


def variant(workload, name, workers, kind, runs, work):
    """Runs `work` `runs` times, measured: a variant of `workload`, on `workers` of `kind`."""
    answers, samples = [], []
    for _ in range(runs):
        answer, sample = measured(work)
        answers.append(answer)
        samples.append(sample)
    return {"workload": workload, "name": name, "workers": workers, "kind": kind, "answers": answers, "samples": samples}


def median_wall(v):
    return sorted(s["wall_s"] for s in v["samples"])[(len(v["samples"]) - 1) // 2]


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
        description="The notes' word count (sequential, a thread per string, a Pool) on their "
        "300 strings, and their count_prime sequential and with Pool.map, on this CPython. "
        "Prints one JSON document."
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes in each pool (default: all cores; the notes use 4)")
    parser.add_argument("--numbers", help="comma-separated numbers for count_prime (default: the notes' 77000000,74000000,73000000,71000000, or a hundredth of each with --quick)")
    parser.add_argument("--strings", help="a file with one string per line to count words in (default: the notes' three lines, repeated --copies times)")
    parser.add_argument("--copies", type=int, default=100, help="copies of the notes' three lines (default 100: their 300 strings)")
    parser.add_argument("--runs", type=int, help="measured runs of each word count (default 5, or 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="small sizes: about a second")
    args = parser.parse_args()
    if args.numbers:
        try:
            numbers = [int(n) for n in args.numbers.split(",")]
        except ValueError:
            parser.error("--numbers: not a comma-separated list of whole numbers")
    else:
        numbers = [n // 100 for n in NUMBERS] if args.quick else NUMBERS
    if args.strings:
        with open(args.strings, encoding="utf-8") as lines:
            strings = lines.read().splitlines()
    else:
        strings = LINES * args.copies
    runs = args.runs or (2 if args.quick else 5)
    if args.workers < 1 or runs < 1 or args.copies < 0 or min(numbers, default=0) < 3:
        parser.error("--workers and --runs must be at least 1, every number at least 3")
    n = args.workers

    words = [
        variant("word_count", "sequential", 1, "sequential", runs, lambda: sequential_word_count(strings)),
        variant("word_count", "a thread per string", len(strings), "threads", runs, lambda: concurrent_word_count(strings)),
        variant("word_count", "Pool(%d), made for the call" % n, n, "processes", runs, lambda: parallel_word_count(strings, n)),
    ]
    primes = [
        variant("count_prime", "sequential", 1, "sequential", 1, lambda: [count_prime(x) for x in numbers]),
        variant("count_prime", "Pool(%d).map" % n, n, "processes", 1, lambda: pool_count_prime(numbers, n)),
    ]
    iterations = sum(max(0, x - 3) for x in numbers)
    json.dump({
        "twin": "lesson06_pool_map",
        "python": interpreter(),
        "params": {"workers": n, "numbers": numbers, "strings": len(strings), "runs": runs},
        "answers": {"word_count": words[0]["answers"][0], "divisor_counts": primes[0]["answers"][0]},
        "variants": words + primes,
        "summary": {
            "iterations": iterations,
            "per_iteration_s": median_wall(primes[0]) / iterations if iterations else None,
            "pool_speedup": median_wall(primes[0]) / median_wall(primes[1]),
        },
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
