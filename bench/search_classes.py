#!/usr/bin/env python3
"""Times each search term of a rotation alone, and groups the times by the kind of query.

  ZEBROS_KEY=... bench/search_classes.py URL TERMS_FILE [ROUNDS]

One keep-alive connection, one request at a time: POST URL/api/v1/contacts/search
{"q": TERM, "limit": 20} with `Cache-Control: no-cache` (read afresh, as `search_fresh`), each
term ROUNDS times (2), its best time kept. Prints the mean, median, p90, p99 and max over the
terms, then per kind ("2w-last4": two words, the last of 4 characters; 6 stands for 6 or more)
the count, mean, median, max and share of the total time, then the 25 slowest terms. What it
shows is where a search's own time goes (which kinds cost most, which terms make the tail); the
throughput and p99 under load are wrk's (bench/run.sh). Python 3 standard library only.
"""

import collections
import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    url = urllib.parse.urlsplit(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        terms = [line.rstrip("\n") for line in f if line.strip()]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    connection = http.client.HTTPConnection(url.hostname, url.port or 80)
    headers = {"Authorization": "Bearer " + os.environ["ZEBROS_KEY"],
               "Content-Type": "application/json", "Cache-Control": "no-cache"}
    best = {}
    for _ in range(rounds):
        for term in terms:
            body = json.dumps({"q": term, "limit": 20})
            start = time.perf_counter()
            connection.request("POST", "/api/v1/contacts/search", body, headers)
            response = connection.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                sys.exit(f"{term!r}: {response.status} {data[:200]!r}")
            best[term] = min(elapsed, best.get(term, elapsed))

    def kind(term):
        words = term.split()
        return f"{len(words)}w-last{min(len(words[-1]), 6)}"

    times = sorted(best.values())
    total = sum(times)

    def at(share):
        return times[min(len(times) - 1, int(share * len(times)))]

    print(f"terms={len(times)} mean={total / len(times):.2f} median={at(0.5):.2f} "
          f"p90={at(0.9):.2f} p99={at(0.99):.2f} max={times[-1]:.2f} (ms, best of {rounds})")
    kinds = collections.defaultdict(list)
    for term, elapsed in best.items():
        kinds[kind(term)].append(elapsed)
    for name in sorted(kinds):
        group = sorted(kinds[name])
        print(f"{name:12s} n={len(group):4d} mean={sum(group) / len(group):6.2f} "
              f"median={group[len(group) // 2]:6.2f} max={group[-1]:7.2f} "
              f"share={sum(group) / total * 100:5.1f}%")
    print("slowest:")
    for term, elapsed in sorted(best.items(), key=lambda item: -item[1])[:25]:
        print(f"  {elapsed:7.2f} {term}")


if __name__ == "__main__":
    main()
