"""Lesson 05's CPython twin: the notes' busy loop, "how to fry eggs on my computer".

The function spins, asking the clock whether its time is up, and so keeps one core busy.
Run once, it uses one core; run by a `multiprocessing.Pool` with one process per core, as
`pool.map(how_to_fry_eggs_on_my_computer, [t] * n_cpus)`, it uses them all. (On threads, a
CPython with a GIL would use about one core in all, since one thread at a time runs Python
code; a free-threaded build without one can use a core per thread.)

Prints one JSON document: what each call returned, and the cores used, measured as CPU time
over wall time: process_time for this process, and for the pool the CPU time each worker
measured over its own call (os.times adds the workers' CPU once the pool has reaped them).
Standard library only.

    python3 fry_eggs.py --workers 4 --phase-ms 3000
    python3 fry_eggs.py --only pool   # the Pool alone (--only one: the single process alone)
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import sysconfig
import time


def how_to_fry_eggs_on_my_computer(seconds):
    """Wastes electricity for `seconds`: the notes' busy loop."""
    start = time.time()
    while time.time() - start < seconds:
        pass
    return "One process completed"


def fry_and_measure(seconds):
    """The busy loop in a pool worker, with the CPU time it took and the worker's PID."""
    cpu = time.process_time()
    answer = how_to_fry_eggs_on_my_computer(seconds)
    return answer, time.process_time() - cpu, os.getpid()


def clock():
    children = os.times()
    return time.perf_counter(), time.process_time(), children.children_user + children.children_system


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
        description="The notes' busy loop on this CPython: once, then in a Pool with one "
        "process per core. Prints one JSON document with the cores each used."
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes in the pool (default: all cores)")
    parser.add_argument("--phase-ms", type=int, help="how long each busy loop runs, in milliseconds (default 3000, or 200 with --quick)")
    parser.add_argument("--only", choices=["one", "pool"], help="run only the single process, or only the Pool (default: both)")
    parser.add_argument("--quick", action="store_true", help="small sizes: under a second")
    args = parser.parse_args()
    seconds = (args.phase_ms or (200 if args.quick else 3000)) / 1000
    if args.workers < 1 or seconds <= 0:
        parser.error("--workers and --phase-ms must be at least 1")

    answers, variants, summary = {}, [], {}
    if args.only != "pool":
        wall, cpu, _ = clock()
        alone = how_to_fry_eggs_on_my_computer(seconds)
        wall2, cpu2, _ = clock()
        single = {"wall_s": wall2 - wall, "cpu_s": cpu2 - cpu, "children_cpu_s": 0.0}
        answers["one_process"] = alone
        variants.append({"workload": "busy_loop", "name": "one process", "workers": 1, "kind": "sequential", "answers": [[alone]], "samples": [single]})
        summary["one_process_cores_used"] = single["cpu_s"] / single["wall_s"]
    if args.only != "one":
        answers["pool"], variant, pool_summary = in_a_pool(args.workers, seconds)
        variants.append(variant)
        summary.update(pool_summary)

    json.dump({
        "twin": "lesson05_cores",
        "python": interpreter(),
        "params": {"workers": args.workers, "phase_s": seconds, "only": args.only},
        "answers": answers,
        "variants": variants,
        "summary": summary,
    }, sys.stdout, indent=1)
    print()


def in_a_pool(workers, seconds):
    """The busy loop on a Pool of `workers` processes, one call each: the answers, the
    variant as measured, and the cores the workers used."""
    started, cpu, children = clock()
    with multiprocessing.Pool(processes=workers) as pool:
        mapped_at = time.perf_counter()
        results = pool.map(fry_and_measure, [seconds] * workers)
        map_wall_s = time.perf_counter() - mapped_at
        pool.close()
        pool.join()  # the workers are reaped here, so os.times() counts their CPU time
    ended, cpu2, children2 = clock()
    workers_cpu_s = sum(r[1] for r in results)
    sample = {"wall_s": ended - started, "cpu_s": cpu2 - cpu, "children_cpu_s": children2 - children}
    answers = [r[0] for r in results]
    variant = {"workload": "busy_loop", "name": "Pool, one process per core", "workers": workers,
               "kind": "processes", "answers": [answers], "samples": [sample]}
    summary = {
        "pool_processes_seen": len({r[2] for r in results}),
        "pool_cores_used": workers_cpu_s / map_wall_s,
        "pool_map_wall_s": map_wall_s,
        "pool_workers_cpu_s": workers_cpu_s,
        "pool_with_start_and_end_cores_used": (sample["cpu_s"] + sample["children_cpu_s"]) / sample["wall_s"],
    }
    return answers, variant, summary


if __name__ == "__main__":
    main()
