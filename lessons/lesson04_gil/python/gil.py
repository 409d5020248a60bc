"""Lesson 04's CPython twin: the real GIL, measured on this interpreter.

The Rust lesson simulates a GIL; this program measures CPython's own, with the same knobs:

1. CPU-bound work (bytecode "steps" of xorshift arithmetic, about 10 microseconds each here)
   on one thread, on N threads, and on N processes of a `multiprocessing.Pool`. Threads take
   turns holding the GIL: no speedup, about one core used. Processes each have their own GIL.
2. I/O-bound tasks (a step, a `time.sleep`, a step) one after another, then one thread each:
   a sleeping thread releases the GIL, so the waits overlap.
3. The convoy effect: a thread answers requests that a client process sends every 1-3 ms
   over a socket, while N CPU-bound threads compute. Back from its read, the thread must win
   the GIL from them, and waits about a switch interval (`sys.setswitchinterval`) per turn.

Prints one JSON document: every variant's answer (steps run and their checksum), the wall
time (perf_counter), the CPU time of this process (process_time) and of the worker processes
it reaped (os.times), and the reply times of the convoy. Standard library only.

    python3 gil.py --threads 2 --steps 60000
"""

import argparse
import json
import math
import multiprocessing
import os
import platform
import socket
import sys
import sysconfig
import threading
import time

MASK = (1 << 64) - 1
# Rounds of xorshift in one step: about 10 microseconds of CPython, as one step of the Rust
# simulation is about 10 microseconds of Rust (5,000 rounds there).
ROUNDS_PER_STEP = 50


def bytecode_step(index):
    """One step of CPU-bound work: `ROUNDS_PER_STEP` rounds of a 64-bit xorshift seeded by
    `index`, the simulation's step with fewer rounds."""
    x = ((index * 0x9E3779B97F4A7C15) & MASK) | 1
    for _ in range(ROUNDS_PER_STEP):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x


def run_steps(share):
    """Runs steps `first .. first + steps`; returns (steps, checksum)."""
    first, steps = share
    checksum = 0
    for index in range(first, first + steps):
        checksum = (checksum + bytecode_step(index)) & MASK
    return steps, checksum


def run_io_task(task, wait_s):
    """An I/O-bound task: a step, a wait (the GIL is released while sleeping), a step."""
    checksum = bytecode_step(2 * task)
    time.sleep(wait_s)
    return 2, (checksum + bytecode_step(2 * task + 1)) & MASK


def split_steps(total, n_workers):
    """`total` steps cut into `n_workers` consecutive shares, as the Rust lesson cuts them."""
    return [(total * w // n_workers, total * (w + 1) // n_workers - total * w // n_workers) for w in range(n_workers)]


def add_up(results):
    """One answer from many workers' (steps, checksum)."""
    results = list(results)
    steps = sum(s for s, _ in results)
    checksum = 0
    for _, c in results:
        checksum = (checksum + c) & MASK
    return {"steps": steps, "checksum": checksum}


def on_threads(work, items):
    """`work(item)` on one thread per item, all started, then all joined; results in order."""
    results = [None] * len(items)

    def run(i):
        results[i] = work(items[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def on_processes(work, items, n_processes):
    """`work` on every item in a pool of `n_processes` processes, started and ended here."""
    with multiprocessing.Pool(n_processes) as pool:
        results = pool.map(work, items)
    return results


# The convoy: a client process, a server thread, and CPU-bound neighbours.

class SplitMix64:
    """The course's random number generator, so that `--seed` gives the Rust lesson's gaps."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def between(self, low, high):
        bound = high - low + 1
        zone = MASK - (MASK % bound)
        while True:
            value = self.next_u64()
            if value < zone:
                return low + value % bound


def receive_exactly(connection, size):
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        data += chunk
    return data


def client(address, gaps_us, results):
    """Outside the server's interpreter: after each gap, sends a request and times the reply.
    The replies (step `index` of each request) add up to the convoy's answer."""
    with socket.create_connection(address) as connection:
        receive_exactly(connection, 1)  # the server is ready, its neighbours are running
        latencies, checksum = [], 0
        for index, gap in enumerate(gaps_us):
            time.sleep(gap / 1e6)
            start = time.perf_counter()
            connection.sendall(index.to_bytes(8, "little"))
            reply = receive_exactly(connection, 8)
            latencies.append(time.perf_counter() - start)
            checksum = (checksum + int.from_bytes(reply, "little")) & MASK
    results.send((latencies, checksum))
    results.close()


def serve(listener, requests):
    """The I/O thread: blocks reading each request (GIL released), runs one step to answer
    it (GIL needed), and replies."""
    connection, _ = listener.accept()
    with connection:
        connection.sendall(b"!")
        for _ in range(requests):
            index = int.from_bytes(receive_exactly(connection, 8), "little")
            connection.sendall(bytecode_step(index).to_bytes(8, "little"))


def compute_until(stop):
    """A CPU-bound neighbour: steps until told to stop."""
    index = 0
    while not stop.is_set():
        bytecode_step(index)
        index += 1


def compute_forever(ready):
    """A CPU-bound neighbour in its own process: says it is running, then steps until killed."""
    ready.put(os.getpid())
    index = 0
    while True:
        bytecode_step(index)
        index += 1


def plural(count, noun):
    """`1 thread`, `2 threads`: the names the Rust lesson gives its rows."""
    return "%d %s%s" % (count, noun, "" if count == 1 else "es" if noun.endswith("s") else "s")


def percentile(sorted_values, q):
    return sorted_values[max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))]


def measure_convoy(name, neighbours, in_processes, switch_interval_s, gaps_us):
    """Reply times of the server thread next to `neighbours` CPU-bound threads (or processes)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval_s)
    stop = threading.Event()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    ready = multiprocessing.SimpleQueue()
    processes, threads = [], []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        try:
            client_process = multiprocessing.Process(target=client, args=(listener.getsockname(), gaps_us, sender))
            client_process.start()
            processes.append(client_process)
            for _ in range(neighbours if in_processes else 0):
                process = multiprocessing.Process(target=compute_forever, args=(ready,), daemon=True)
                process.start()
                processes.append(process)
                ready.get()
            for _ in range(0 if in_processes else neighbours):
                threads.append(threading.Thread(target=compute_until, args=(stop,)))
            server = threading.Thread(target=serve, args=(listener, len(gaps_us)))
            for thread in threads + [server]:
                thread.start()
            latencies, checksum = receiver.recv()
            server.join()
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            for process in processes[1:]:
                process.terminate()
            for process in processes:
                process.join()
            sys.setswitchinterval(previous)
    ordered = sorted(latencies)
    return {
        "name": name,
        "switch_interval_s": switch_interval_s,
        "cpu_neighbours": neighbours,
        "in_processes": in_processes,
        "answer": {"steps": len(latencies), "checksum": checksum},
        "latencies_s": latencies,
        "p50_s": percentile(ordered, 0.5),
        "p90_s": percentile(ordered, 0.9),
        "p99_s": percentile(ordered, 0.99),
        "max_s": ordered[-1],
    }


# Measuring.

def clock():
    children = os.times()
    return time.perf_counter(), time.process_time(), children.children_user + children.children_system


def measured(work):
    """Runs `work()` once: its answer, with wall time, this process's CPU time (all threads)
    and the CPU time of child processes reaped meanwhile."""
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


def cores_used(v):
    s = sorted(v["samples"], key=lambda s: s["wall_s"])[(len(v["samples"]) - 1) // 2]
    return (s["cpu_s"] + s["children_cpu_s"]) / s["wall_s"] if s["wall_s"] > 0 else 0.0


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
        description="CPython's real GIL: CPU-bound threads against one thread and against "
        "processes, I/O-bound threads, and the convoy effect at three switch intervals. "
        "Prints one JSON document."
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads and processes sharing the CPU-bound work, and CPU-bound neighbours in the convoy (default: all cores)")
    parser.add_argument("--steps", type=int, help="CPU-bound steps in all (default 60,000, or 4,000 with --quick)")
    parser.add_argument("--io-tasks", type=int, default=8, help="I/O-bound tasks (default 8)")
    parser.add_argument("--io-wait", type=int, help="milliseconds each I/O-bound task waits (default 200, or 20 with --quick)")
    parser.add_argument("--switch-interval", type=int, default=5, help="sys.setswitchinterval, in milliseconds (default 5, CPython's own)")
    parser.add_argument("--requests", type=int, help="requests in each convoy measurement (default 100, or 10 with --quick)")
    parser.add_argument("--runs", type=int, help="measured runs of each CPU-bound variant (default 3, or 1 with --quick)")
    parser.add_argument("--seed", type=int, default=2016, help="seed of the gaps between requests (default 2016)")
    parser.add_argument("--quick", action="store_true", help="small sizes: about a second")
    args = parser.parse_args()
    steps = args.steps or (4_000 if args.quick else 60_000)
    io_wait_s = (args.io_wait or (20 if args.quick else 200)) / 1000
    requests = args.requests or (10 if args.quick else 100)
    runs = args.runs or (1 if args.quick else 3)
    if min(args.threads, steps, args.io_tasks, args.switch_interval, requests, runs) < 1 or io_wait_s <= 0:
        parser.error("every count and duration must be at least 1")
    n = args.threads
    switch_s = args.switch_interval / 1000

    one, shares = [(0, steps)], split_steps(steps, n)
    cpu = [
        variant("cpu_bound", "1 thread", 1, "sequential", runs, lambda: add_up(map(run_steps, one))),
        variant("cpu_bound", plural(n, "thread"), n, "threads", runs, lambda: add_up(on_threads(run_steps, shares))),
        variant("cpu_bound", plural(n, "process"), n, "processes", runs, lambda: add_up(on_processes(run_steps, shares, n))),
    ]
    tasks = list(range(args.io_tasks))
    io = [
        variant("io_bound", "1 thread", 1, "sequential", 1, lambda: add_up(run_io_task(t, io_wait_s) for t in tasks)),
        variant("io_bound", plural(len(tasks), "thread"), len(tasks), "threads", 1, lambda: add_up(on_threads(lambda t: run_io_task(t, io_wait_s), tasks))),
    ]

    gaps = SplitMix64(args.seed)
    gaps_us = [gaps.between(1_000, 3_000) for _ in range(requests)]
    intervals = []
    for interval in (max(switch_s / 5, 0.001), switch_s, min(switch_s * 4, 0.4)):
        if interval not in intervals:
            intervals.append(interval)
    ms = lambda s: "%g ms" % (s * 1000)
    convoy = [measure_convoy("alone, GIL %s" % ms(switch_s), 0, False, switch_s, gaps_us)]
    for interval in intervals:
        convoy.append(measure_convoy("%s, GIL %s" % (plural(n, "CPU-bound thread"), ms(interval)), n, False, interval, gaps_us))
    convoy.append(measure_convoy("%s, own GILs" % plural(n, "CPU-bound process"), n, True, switch_s, gaps_us))

    sequential = cpu[0]
    json.dump({
        "twin": "lesson04_gil",
        "python": interpreter(),
        "params": {"threads": n, "steps": steps, "io_tasks": args.io_tasks, "io_wait_s": io_wait_s,
                   "switch_interval_s": switch_s, "requests": requests, "runs": runs, "seed": args.seed,
                   "rounds_per_step": ROUNDS_PER_STEP},
        "answers": {"cpu": sequential["answers"][0], "io": io[0]["answers"][0]},
        "variants": cpu + io,
        "summary": {
            "step_s": median_wall(sequential) / steps,
            "cpu_threads_speedup": median_wall(sequential) / median_wall(cpu[1]),
            "cpu_threads_cores_used": cores_used(cpu[1]),
            "cpu_processes_speedup": median_wall(sequential) / median_wall(cpu[2]),
            "cpu_processes_cores_used": cores_used(cpu[2]),
            "io_threads_speedup": median_wall(io[0]) / median_wall(io[1]),
            "convoy_p50_s": {c["name"]: c["p50_s"] for c in convoy},
        },
        "convoy": convoy,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
