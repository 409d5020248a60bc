"""Lesson 09's CPython twin: the notes' bzip2 requests, decompressed three ways.

A book is compressed with bzip2 once; the notes then decompress 300 copies of it, as if 300
clients had sent it, one after another, and with a `ProcessPoolExecutor`. This twin adds a
`ThreadPoolExecutor`: CPython's `bz2` module lets go of the GIL while it decompresses, so
threads share the work too, and unlike processes they need not copy the requests in and the
books back out through pipes.

The book is the course's generated English-like text, the same for a seed as the Rust
lesson's (`workloads::text::generate`), or the contents of a bzip2 file (`--compressed`).
Every variant's answer is the number of books it got back, their length, and their CRC-32
(all of them must be identical to the book). Prints one JSON document with the answers and
each variant's wall time (perf_counter), this process's CPU time (process_time) and that of
the pool's processes (os.times, counted once the pool has reaped them). Standard library only.

    python3 parallel_bzip2.py --text-kb 250 --requests 300 --workers 4
"""

import argparse
import bz2
import json
import multiprocessing
import os
import platform
import sys
import sysconfig
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

MASK = (1 << 64) - 1

WORDS = [
    "the", "and", "of", "to", "a", "in", "was", "he", "it", "that", "i", "you", "his", "for",
    "on", "with", "as", "had", "but", "at", "by", "not", "she", "be", "they", "so", "all",
    "what", "there", "we", "said", "one", "up", "out", "would", "her", "them", "him", "then",
    "about", "down", "could", "when", "no", "if", "river", "raft", "night", "water", "town",
    "time", "went", "come", "got", "see", "way", "along", "old", "man", "good", "well", "over",
    "into", "back", "never", "little", "know", "around", "just", "long", "day", "shore",
    "island", "canoe", "woods", "house", "widow", "judge", "money", "camp", "fire", "fog",
    "current", "steamboat", "morning", "dark", "quiet", "mighty", "lonesome", "reckon",
    "drifting", "storm", "lantern", "cabin", "fishing", "line", "catfish", "sky", "stars",
    "moon", "trouble", "king", "duke", "circus", "village", "church", "sermon", "doctor",
    "letter", "window", "ladder", "chain", "freedom", "journey", "bank", "sandbar", "willow",
    "cottonwood", "thunder", "lightning", "breakfast", "supper", "bacon", "cornbread",
    "coffee", "pipe", "smoke", "whistle", "bell",
]
PUNCTUATION = [".", ".", "?", "!"]


class SplitMix64:
    """The course's random number generator (shared/workloads), number for number."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, bound):
        zone = MASK - (MASK % bound)
        while True:
            value = self.next_u64()
            if value < zone:
                return value % bound

    def between(self, low, high):
        return low if high <= low else low + self.below(high - low + 1)

    def unit(self):
        return (self.next_u64() >> 11) / float(1 << 53)


def generate_book(seed, size):
    """About `size` bytes of English-like text (never more), the same as the Rust lesson's
    book for the same seed: sentences of Zipf-distributed words, in paragraphs."""
    rng = SplitMix64(seed)
    parts, length, in_paragraph = [], 0, 0
    while length < size:
        sentence = ""
        for i in range(rng.between(4, 18)):
            rank = int(float(len(WORDS)) ** rng.unit())  # Zipf: rank r with probability ~ 1/r
            word = WORDS[min(max(rank, 1), len(WORDS)) - 1]
            if i == 0:
                sentence = word[0].upper() + word[1:]
            else:
                sentence += ", " if rng.unit() < 0.08 else " "
                sentence += word
        sentence += PUNCTUATION[rng.below(len(PUNCTUATION))]
        in_paragraph += 1
        end = " "
        if in_paragraph >= rng.between(3, 7):
            in_paragraph, end = 0, "\n\n"
        if length + len(sentence) + len(end) > size:
            break
        parts.append(sentence + end)
        length += len(sentence) + len(end)
    return "".join(parts).encode("ascii")


def unpack(requests):
    """The notes' sequential version: every request decompressed in turn."""
    return [bz2.decompress(request) for request in requests]


def unpack_threads(requests, n_workers):
    """The same with a thread pool: bz2 releases the GIL while it decompresses."""
    with ThreadPoolExecutor(n_workers) as pool:
        return list(pool.map(bz2.decompress, requests))


def unpack_processes(requests, n_workers):
    """The notes' process pool: each request is pickled to a worker and its book back."""
    with ProcessPoolExecutor(n_workers) as pool:
        return list(pool.map(bz2.decompress, requests))


def summarize(books):
    """The answer: how many books came back, their length and CRC-32, and whether all are
    the same bytes."""
    first = books[0] if books else b""
    return {
        "requests": len(books),
        "bytes_each": len(first),
        "crc32": zlib.crc32(first),
        "identical": all(book == first for book in books),
    }


def clock():
    children = os.times()
    return time.perf_counter(), time.process_time(), children.children_user + children.children_system


def variant(name, workers, kind, runs, work):
    answers, samples = [], []
    for _ in range(runs):
        wall, cpu, children = clock()
        books = work()
        wall2, cpu2, children2 = clock()
        answers.append(summarize(books))  # outside the timing
        samples.append({"wall_s": wall2 - wall, "cpu_s": cpu2 - cpu, "children_cpu_s": children2 - children})
        del books
    return {"workload": "decompress", "name": name, "workers": workers, "kind": kind, "answers": answers, "samples": samples}


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
        description="The notes' bzip2 requests on this CPython: a book compressed once, then "
        "decompressed once per request, one after another, on a thread pool and on a process "
        "pool. Prints one JSON document."
    )
    parser.add_argument("--text-kb", type=int, help="size of the generated book in kB of 1000 bytes (default 250, or 50 with --quick)")
    parser.add_argument("--requests", type=int, help="decompression requests (default 300 as in the notes, or 30 with --quick)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="threads, and processes in the pool (default: all cores)")
    parser.add_argument("--level", type=int, default=9, help="bzip2 compression level, 1 to 9 (default 9)")
    parser.add_argument("--seed", type=int, default=2016, help="seed of the generated book (default 2016, the course's)")
    parser.add_argument("--compressed", help="a bzip2 file to use as every request instead of the generated book")
    parser.add_argument("--runs", type=int, default=1, help="measured runs of each variant (default 1)")
    parser.add_argument("--quick", action="store_true", help="small sizes: under a second")
    args = parser.parse_args()
    text_kb = args.text_kb or (50 if args.quick else 250)
    n_requests = args.requests or (30 if args.quick else 300)
    if min(text_kb, n_requests, args.workers, args.runs) < 1 or not 1 <= args.level <= 9:
        parser.error("sizes and counts must be at least 1, --level from 1 to 9")

    started = time.perf_counter()
    if args.compressed:
        with open(args.compressed, "rb") as source:
            compressed = source.read()
        book_bytes = len(bz2.decompress(compressed))
        compress_s = None
    else:
        book = generate_book(args.seed, text_kb * 1000)
        started = time.perf_counter()
        compressed = bz2.compress(book, args.level)
        compress_s = time.perf_counter() - started
        book_bytes = len(book)
        if bz2.decompress(compressed) != book:
            sys.exit("bz2 did not give the book back")
    requests = [compressed] * n_requests
    n = args.workers

    variants = [
        variant("sequential", 1, "sequential", args.runs, lambda: unpack(requests)),
        variant("ThreadPoolExecutor(%d)" % n, n, "threads", args.runs, lambda: unpack_threads(requests, n)),
        variant("ProcessPoolExecutor(%d)" % n, n, "processes", args.runs, lambda: unpack_processes(requests, n)),
    ]
    json.dump({
        "twin": "lesson09_bzip2",
        "python": interpreter(),
        "params": {"text_kb": text_kb, "requests": n_requests, "workers": n, "level": args.level,
                   "seed": args.seed, "compressed_file": args.compressed, "runs": args.runs},
        "answers": {"decompress": variants[0]["answers"][0]},
        "book": {"bytes": book_bytes, "compressed_bytes": len(compressed),
                 "ratio": len(compressed) / book_bytes if book_bytes else None,
                 "compress_s": compress_s},
        "variants": variants,
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
