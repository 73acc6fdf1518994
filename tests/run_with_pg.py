#!/usr/bin/env python3
"""Runs a GoogleTest binary against the PostgreSQL server of the ctest fixture `pg`.

  run_with_pg.py STATE_DIR -- CMD [ARGS...]

Reads STATE_DIR/url (written by pg_fixture.py start), runs CMD with ZEBROS_TEST_DATABASE_URL set
to it, passes its output through, and fails (exit 1) unless CMD exited 0, ran at least one test
and skipped none: the PostgreSQL unit tests skip themselves when they get no server, so a skip
here means the fixture is broken, and must not pass silently. Exit 2 on bad usage.
"""

import os
import re
import subprocess
import sys

PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\b", re.M)
SKIPPED = re.compile(r"^\[  SKIPPED \] ", re.M)


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        print(f"usage: {argv[0]} STATE_DIR -- CMD [ARGS...]", file=sys.stderr)
        return 2
    url_path = os.path.join(argv[1], "url")
    try:
        with open(url_path, encoding="utf-8") as handle:
            url = handle.read().strip()
    except OSError as error:
        print(f"run_with_pg: no PostgreSQL URL ({error}); did pg_fixture.start run?",
              file=sys.stderr)
        return 1
    if not url.startswith(("postgres://", "postgresql://")):
        print(f"run_with_pg: {url_path} holds {url!r}, not a postgres:// URL", file=sys.stderr)
        return 1
    env = dict(os.environ, ZEBROS_TEST_DATABASE_URL=url)
    result = subprocess.run(argv[3:], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    output = result.stdout.decode("utf-8", "replace")
    sys.stdout.write(output)
    sys.stdout.flush()
    if result.returncode != 0:
        print(f"run_with_pg: the tests exited with {result.returncode}", file=sys.stderr)
        return result.returncode if result.returncode > 0 else 1
    passed = PASSED.search(output)
    if passed is None or int(passed.group(1)) == 0:
        print("run_with_pg: no test ran (check the --gtest_filter)", file=sys.stderr)
        return 1
    if SKIPPED.search(output):
        print("run_with_pg: tests were skipped although a PostgreSQL server was given",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
