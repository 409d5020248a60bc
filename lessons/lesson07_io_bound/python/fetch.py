"""Lesson 07's CPython twin: user records over HTTP, one after another, then from a thread pool.

The notes fetch `https://api.github.com/users/<login>` with `urlopen` for one login after
another, then hand the same calls to a `ThreadPoolExecutor`, after one piece of advice: profile
first; CPU time far below wall time means the program waits, and threads will help. This twin
does the same against the server the Rust lesson starts (its `--url`, any server shaped like
GitHub's user API): `urllib.request.urlopen` with a timeout, sequentially and on a pool of N
threads. A waiting thread holds no core and, while it waits, not the GIL either, so the pool
overlaps the waits on any CPython, with a GIL or without.

Every variant's answer is the records fetched (login, id, name, created_at, public_repos, in
login order) and the failed requests counted by kind ("HTTP 503", "timeout", "could not
connect", "connection failed", "not a user record"), for the lesson to check against Rust's.
Prints one JSON document with the answers and each variant's wall time (perf_counter) and CPU
time (process_time, every thread of this process). Standard library only.

    cargo run -p slowserver                                  # prints http://127.0.0.1:PORT
    python3 fetch.py --url 'http://127.0.0.1:PORT/users/{login}' --requests 64 --workers 8
"""

import argparse
import http.client
import json
import platform
import re
import socket
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

LECTURE_LOGINS = ["gvanrossum", "wesm", "tebeka", "torvalds"]
LOGIN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MOST_REPLY_BYTES = 256 << 10  # a record is a few hundred bytes; the Rust client stops here too


def logins_like_the_lesson(count):
    """The lecture's four GitHub users, then made-up logins (user0004, ...): the lesson's."""
    return [LECTURE_LOGINS[i] if i < len(LECTURE_LOGINS) else "user%04d" % i for i in range(count)]


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


def is_timeout(error):
    # socket.timeout is TimeoutError from 3.10 on, and a plain OSError before.
    return isinstance(error, (socket.timeout, TimeoutError))


def fetch_user(url_template, login, timeout_s):
    """One GET: the thread sleeps in the kernel until the reply comes (or the timeout).
    Returns ("record", the record) or (the kind of failure, what happened)."""
    try:
        with urllib.request.urlopen(url_template.replace("{login}", login), timeout=timeout_s) as reply:
            body = reply.read(MOST_REPLY_BYTES)
    except urllib.error.HTTPError as error:  # a reply, with an error status (503, 403, 404)
        return "HTTP %d" % error.code, str(error.reason)
    except urllib.error.URLError as error:  # no reply: refused, no such host, timed out connecting
        if is_timeout(error.reason):
            return "timeout", "no reply within %g s" % timeout_s
        return "could not connect", str(error.reason)
    except OSError as error:  # the wait for the reply timed out, or the connection broke
        if is_timeout(error):
            return "timeout", "no reply within %g s" % timeout_s
        return "connection failed", str(error)
    except http.client.HTTPException as error:  # a reply that is not HTTP
        return "connection failed", "%s: %s" % (type(error).__name__, error)
    try:
        record = json.loads(body)
    except ValueError:
        record = None
    if not is_record(record):
        return "not a user record", repr(body[:40])
    return "record", {key: record[key] for key in ("login", "id", "name", "created_at", "public_repos")}


def users_info(url_template, logins, timeout_s, n_workers):
    """The notes' sequential version: one request after another, on this thread."""
    return [fetch_user(url_template, login, timeout_s) for login in logins]


def users_info_pooled(url_template, logins, timeout_s, n_workers):
    """The same requests from a pool of n_workers threads; map keeps the logins' order."""
    with ThreadPoolExecutor(n_workers) as pool:
        return list(pool.map(lambda login: fetch_user(url_template, login, timeout_s), logins))


def answer(logins, outcomes):
    """The records in login order, and the failures counted by kind."""
    records, failures, examples = [], {}, {}
    for login, (kind, what) in zip(logins, outcomes):
        if kind == "record":
            records.append(what)
        else:
            failures[kind] = failures.get(kind, 0) + 1
            examples.setdefault(kind, "%s: %s" % (login, what))
    return {"requests": len(outcomes), "records": records, "failures": failures}, examples


def variant(name, workers, kind, fetch, url_template, logins, timeout_s):
    wall, cpu = time.perf_counter(), time.process_time()
    outcomes = fetch(url_template, logins, timeout_s, workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result, examples = answer(logins, outcomes)
    return {
        "workload": "fetch", "name": name, "workers": workers, "kind": kind,
        "answers": [result], "samples": [{"wall_s": wall, "cpu_s": cpu}],
        "failure_examples": examples,
    }


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
        description="The notes' user-info fetcher on this CPython: urlopen one login after another, "
        "then on a ThreadPoolExecutor, against a server shaped like GitHub's user API (the slow "
        "server: cargo run -p slowserver). Prints one JSON document.",
    )
    parser.add_argument("--url", required=True, metavar="TEMPLATE",
                        help="where to fetch, with {login} in it: http://127.0.0.1:PORT/users/{login} "
                        "(or the notes' https://api.github.com/users/{login})")
    parser.add_argument("--logins", help="whom to fetch, comma-separated (default: the lecture's four, then user0004, ...)")
    parser.add_argument("--requests", type=int, help="how many of the default logins (default 64, or 16 with --quick)")
    parser.add_argument("--workers", type=int, default=8, help="threads in the pool (default 8)")
    parser.add_argument("--timeout-ms", type=int, default=250, help="how long a request may wait for its reply (default 250)")
    parser.add_argument("--variants", default="sequential,pool",
                        help="which to run, comma-separated: sequential, pool (default both)")
    parser.add_argument("--quick", action="store_true", help="fewer requests: well under a second against a quick server")
    args = parser.parse_args()
    if "{login}" not in args.url or not args.url.startswith(("http://", "https://")):
        parser.error("--url must be an http:// or https:// URL with {login} in it")
    if args.logins:
        logins = [login.strip() for login in args.logins.split(",")]
    else:
        logins = logins_like_the_lesson(args.requests or (16 if args.quick else 64))
    if not logins or not all(LOGIN.match(login) for login in logins):
        parser.error("every login is 1 to 64 letters, digits, '_', '-' or '.'")
    if min(args.workers, args.timeout_ms) < 1:
        parser.error("--workers and --timeout-ms must be at least 1")
    chosen = [name.strip() for name in args.variants.split(",")]
    if not chosen or not set(chosen) <= {"sequential", "pool"}:
        parser.error("--variants takes sequential, pool or both")
    timeout_s = args.timeout_ms / 1000

    variants = []
    if "sequential" in chosen:
        variants.append(variant("sequential", 1, "sequential", users_info, args.url, logins, timeout_s))
    if "pool" in chosen:
        name = "ThreadPoolExecutor(%d)" % args.workers
        variants.append(variant(name, args.workers, "threads", users_info_pooled, args.url, logins, timeout_s))
    json.dump({
        "twin": "lesson07_io_bound",
        "python": interpreter(),
        "params": {"url": args.url, "requests": len(logins), "workers": args.workers,
                   "timeout_ms": args.timeout_ms, "variants": chosen},
        "answers": {"fetch": variants[0]["answers"][0]},
        "variants": variants,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
