"""Lesson 08's CPython twin: many clients waiting at once, on one thread or on a thread each.

The notes' asyncio example runs many waits at once on one thread: each coroutine awaits, and
the event loop runs another whose socket is ready. This twin makes one GET per login against
the server the Rust lesson starts (its `--url`, any server shaped like GitHub's user API), all
at the same time, two ways:

- asyncio, one thread: each client a task that opens a connection with
  `asyncio.open_connection`, writes an HTTP/1.1 GET by hand and reads the reply until the
  server closes the connection (it says `Connection: close`, so one request is one
  connection); at most --connect-wave connections are being opened at any moment;
- a thread per connection, each making a blocking `urllib.request.urlopen` call.

Each way runs in a fresh child process (this script again), so that its peak threads and
memory (`resource.getrusage` maxrss, and Linux's /proc/self/status where there is one) are its
own. The connections are as many as asked, or as the open-file limit allows (RLIMIT_NOFILE,
raised to its hard limit, less room for the files already open); a thread the machine refuses
ends the run of that way with what was started, and says so.

Every way's answer is the records fetched (login, id, name, created_at, public_repos, in login
order) and the failed requests counted by kind, for the lesson to check against Rust's. Prints
one JSON document with the answers, each way's wall time (perf_counter), CPU time
(process_time), peak threads, connections held at once and memory. Standard library only.

    cargo run -p slowserver -- --delay-ms 3000             # prints http://127.0.0.1:PORT
    python3 event_loop.py --url 'http://127.0.0.1:PORT/users/{login}' --connections 10000
"""

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import socket
import ssl
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

LOGIN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MOST_REPLY_BYTES = 256 << 10  # a record is a few hundred bytes; the Rust clients stop here too
FILES_KEPT_FREE = 16  # besides the sockets: the interpreter's own files, pipes, a margin
SAMPLE_EVERY = 32  # a finished client samples the threads and page tables this often


# ----- One client's reply, whichever way it came -----

def is_record(value):
    """Whether a decoded reply has the shape of a GitHub user record (the fields we keep)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("login"), str)
        and isinstance(value.get("id"), int)
        and (value.get("name") is None or isinstance(value.get("name"), str))
        and isinstance(value.get("created_at"), str)
        and isinstance(value.get("public_repos"), int)
    )


def outcome_of(status, reason, body):
    """("record", the record) for a 200 with a record in it; otherwise (kind of failure, why)."""
    if status != 200:
        return "HTTP %d" % status, reason
    try:
        record = json.loads(body)
    except ValueError:
        record = None
    if not is_record(record):
        return "not a user record", repr(body[:40])
    return "record", {key: record[key] for key in ("login", "id", "name", "created_at", "public_repos")}


def is_timeout(error):
    # socket.timeout is TimeoutError from 3.10 on, and a plain OSError before; asyncio.wait_for
    # raises asyncio.TimeoutError, which is TimeoutError only from 3.11 on.
    return isinstance(error, (socket.timeout, TimeoutError, asyncio.TimeoutError))


# ----- One thread, an event loop -----

def split_reply(reply):
    """Status, reason and body of a whole HTTP/1.1 reply, read until the server closed."""
    head, separator, body = reply.partition(b"\r\n\r\n")
    words = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if not separator or len(words) < 2 or not words[0].startswith(b"HTTP/1.") or not words[1].isdigit():
        raise ValueError("not an HTTP reply: %r" % reply[:40])
    return int(words[1]), (words[2] if len(words) > 2 else b"").decode("latin-1"), body


async def fetch_user_async(url, wave, open_now):
    """One GET on its own connection. Every `await` may hand the thread to another task."""
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    path = parts.path + ("?" + parts.query if parts.query else "")
    async with wave:  # a few hundred handshakes at a time keep the server's queue short
        reader, writer = await asyncio.open_connection(
            parts.hostname, port, ssl=ssl.create_default_context() if secure else None)
    open_now.opened()
    try:
        request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: parallel-lessons\r\n"
                   "Accept: application/json\r\nConnection: close\r\n\r\n" % (path, parts.netloc))
        writer.write(request.encode("ascii"))
        await writer.drain()
        reply = b""
        while len(reply) <= MOST_REPLY_BYTES:
            chunk = await reader.read(64 << 10)  # ← the wait: the loop runs other tasks meanwhile
            if not chunk:
                break
            reply += chunk
        return outcome_of(*split_reply(reply))
    finally:
        open_now.closed()
        writer.close()


async def fetch_or_fail(url, timeout_s, wave, open_now):
    """fetch_user_async within a timeout, its failure said as a kind and a reason."""
    try:
        return await asyncio.wait_for(fetch_user_async(url, wave, open_now), timeout_s)
    except ValueError as error:
        return "not a user record", str(error)
    except Exception as error:
        if is_timeout(error):
            return "timeout", "no reply within %g s" % timeout_s
        if isinstance(error, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)):
            return "could not connect", str(error)
        return "connection failed", "%s: %s" % (type(error).__name__, error)


async def all_on_one_loop(urls, timeout_s, connect_wave, open_now, peaks):
    wave = asyncio.Semaphore(connect_wave)
    finished = 0

    async def client(url):
        nonlocal finished
        outcome = await fetch_or_fail(url, timeout_s, wave, open_now)
        finished += 1
        if finished % SAMPLE_EVERY == 1:
            peaks.sample()
        return outcome

    # A task per client, not a thread: gather runs them all on this thread's event loop.
    return await asyncio.gather(*(client(url) for url in urls))


def event_loop_way(urls, timeout_s, connect_wave, open_now, peaks):
    return asyncio.run(all_on_one_loop(urls, timeout_s, connect_wave, open_now, peaks)), None


# ----- A thread per connection -----

def fetch_user_blocking(url, timeout_s):
    """One GET with urlopen: the thread sleeps in the kernel until the reply comes."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            body = reply.read(MOST_REPLY_BYTES)
            return outcome_of(reply.status, reply.reason, body)
    except urllib.error.HTTPError as error:
        return "HTTP %d" % error.code, str(error.reason)
    except urllib.error.URLError as error:
        if is_timeout(error.reason):
            return "timeout", "no reply within %g s" % timeout_s
        return "could not connect", str(error.reason)
    except Exception as error:
        if is_timeout(error):
            return "timeout", "no reply within %g s" % timeout_s
        return "connection failed", "%s: %s" % (type(error).__name__, error)


def thread_per_connection_way(urls, timeout_s, connect_wave, open_now, peaks):
    outcomes = [None] * len(urls)
    finished = [0]
    lock = threading.Lock()

    def client(i):
        open_now.opened()
        outcomes[i] = fetch_user_blocking(urls[i], timeout_s)
        open_now.closed()
        with lock:
            finished[0] += 1
            sample = finished[0] % SAMPLE_EVERY == 1
        if sample:
            peaks.sample()

    threads, refused = [], None
    for i in range(len(urls)):
        thread = threading.Thread(target=client, args=(i,))
        try:
            thread.start()
        except RuntimeError as error:  # "can't start new thread": a limit on tasks or memory
            refused = {"started": i, "error": str(error)}
            break
        threads.append(thread)
    peaks.sample()  # every thread started, the first replies not yet in: the peak
    for thread in threads:
        thread.join()
    return outcomes[:len(threads)], refused


WAYS = {"asyncio": event_loop_way, "a thread each": thread_per_connection_way}
KINDS = {"asyncio": "event loop", "a thread each": "threads"}


# ----- What the OS says -----

def status_field(name):
    """A number from /proc/self/status (Linux): a count, or kibibytes as bytes."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    value = line.split()[1]
                    return int(value) * (1024 if line.rstrip().endswith("kB") else 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def maxrss_bytes():
    """The peak resident memory of this process: getrusage says kilobytes, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class Peaks:
    """The most threads and page tables seen: the kernel keeps a peak of resident memory only."""

    def __init__(self):
        self.threads, self.page_tables, self.lock = threading.active_count(), 0, threading.Lock()

    def sample(self):
        threads = status_field("Threads") or threading.active_count()
        page_tables = status_field("VmPTE") or 0
        with self.lock:
            self.threads = max(self.threads, threads)
            self.page_tables = max(self.page_tables, page_tables)


class OpenConnections:
    def __init__(self):
        self.now, self.most, self.lock = 0, 0, threading.Lock()

    def opened(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def closed(self):
        with self.lock:
            self.now -= 1


def open_files_now():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return FILES_KEPT_FREE


def room_for_connections(wanted):
    """Raises the open-file limit as far as allowed; the connections that fit under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted, None
    room = max(soft - open_files_now() - FILES_KEPT_FREE, 0)
    return min(wanted, room), (None if room >= wanted else "the open-file limit of %d" % soft)


# ----- A way, in a process of its own -----

def run_one(way, urls, timeout_s, connect_wave):
    """Runs one way in this (fresh) process and prints what it measured as one JSON line."""
    rss_at_start = status_field("VmRSS")
    open_now, peaks = OpenConnections(), Peaks()
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes, refused = WAYS[way](urls, timeout_s, connect_wave, open_now, peaks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peaks.sample()
    json.dump({
        "outcomes": outcomes, "refused": refused, "wall_s": wall, "cpu_s": cpu,
        "peak_threads": peaks.threads, "connections_held": open_now.most,
        "rss_at_start_bytes": rss_at_start, "peak_rss_bytes": maxrss_bytes(),
        "peak_virtual_bytes": status_field("VmPeak"), "peak_page_tables_bytes": peaks.page_tables or None,
    }, sys.stdout)
    print()


def in_child(way, args, logins):
    """Runs `way` in a fresh interpreter; its measurement and answer."""
    # The logins travel on stdin: ten thousand of them are too long for one argument.
    command = [sys.executable, os.path.abspath(__file__), "--run-one", way, "--url", args.url,
               "--timeout-ms", str(args.timeout_ms), "--connect-wave", str(args.connect_wave)]
    done = subprocess.run(command, input=json.dumps(logins).encode(), stdout=subprocess.PIPE, check=True)
    measured = json.loads(done.stdout)
    records, failures, example = [], {}, None
    for login, (kind, what) in zip(logins, measured.pop("outcomes")):
        if kind == "record":
            records.append(what)
        else:
            failures[kind] = failures.get(kind, 0) + 1
            example = example or "%s: %s" % (login, what)
    answer = {"requests": len(records) + sum(failures.values()), "records": records, "failures": failures}
    sample = {"wall_s": measured.pop("wall_s"), "cpu_s": measured.pop("cpu_s")}
    workers = 1 if way == "asyncio" else len(logins)
    return dict({"workload": "connections", "name": way, "workers": workers, "kind": KINDS[way],
                 "answers": [answer], "samples": [sample], "failure_example": example}, **measured)


def interpreter():
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "gil_enabled": is_gil_enabled() if is_gil_enabled else None,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "switch_interval_s": sys.getswitchinterval(),
    }


def main():
    parser = argparse.ArgumentParser(
        description="Many clients waiting at once on this CPython: asyncio on one thread, then a "
        "thread per connection with urlopen, against a server shaped like GitHub's user API (the "
        "slow server: cargo run -p slowserver). Prints one JSON document.",
    )
    parser.add_argument("--url", required=True, metavar="TEMPLATE",
                        help="where to fetch, with {login} in it: http://127.0.0.1:PORT/users/{login}")
    parser.add_argument("--connections", type=int,
                        help="clients at once (default 10000, or 200 with --quick; fewer if the open-file limit says so)")
    parser.add_argument("--logins", help="whom to fetch, comma-separated (default: client00000, client00001, ...)")
    parser.add_argument("--ways", default="asyncio,a thread each",
                        help="which to run, comma-separated: asyncio, a thread each (default both)")
    parser.add_argument("--timeout-ms", type=int, default=120000, help="how long a client waits for its reply (default 120000)")
    parser.add_argument("--connect-wave", type=int, default=256, help="asyncio: connections being opened at once, at most (default 256)")
    parser.add_argument("--quick", action="store_true", help="200 clients: a second or two against a quick server")
    parser.add_argument("--run-one", choices=sorted(WAYS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        urls = [args.url.replace("{login}", login) for login in json.load(sys.stdin)]
        return run_one(args.run_one, urls, args.timeout_ms / 1000, args.connect_wave)
    if "{login}" not in args.url or not args.url.lower().startswith(("http://", "https://")):
        parser.error("--url must be an http:// or https:// URL with {login} in it")
    if args.logins:
        logins = [login.strip() for login in args.logins.split(",")]
    else:
        logins = ["client%05d" % i for i in range(args.connections or (200 if args.quick else 10000))]
    if not logins or not all(LOGIN.match(login) for login in logins):
        parser.error("every login is 1 to 64 letters, digits, '_', '-' or '.'")
    if min(args.timeout_ms, args.connect_wave) < 1:
        parser.error("--timeout-ms and --connect-wave must be at least 1")
    ways = [way.strip() for way in args.ways.split(",")]
    if not ways or not set(ways) <= set(WAYS):
        parser.error("--ways takes asyncio, a thread each, or both")

    asked = len(logins)
    fits, limited_by = room_for_connections(asked)
    if fits < 1:
        sys.exit("no room for a single connection: %s" % limited_by)
    logins = logins[:fits]
    variants = [in_child(way, args, logins) for way in ways]
    json.dump({
        "twin": "lesson08_async",
        "python": interpreter(),
        "params": {"url": args.url, "connections_asked": asked, "connections": fits, "limited_by": limited_by,
                   "timeout_ms": args.timeout_ms, "connect_wave": args.connect_wave, "ways": ways},
        "answers": {"connections": variants[0]["answers"][0]},
        "variants": variants,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
