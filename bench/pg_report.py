#!/usr/bin/env python3
"""The PostgreSQL table of bench/pg.sh: PostgreSQL beside SQLite, from one run (stdlib only).

  pg_report.py --out DIR [--meta K=V ...]

Reads what bench/pg.sh left in DIR: sqlite/results.json and postgres/results.json (bench/run.sh
on each backend; report.py's medians), nodes/raw/{one,two,two_default}.<scenario>.run<N>.{a,b}.txt
(two wrk processes in parallel: both at node 1, one per node of two sized nodes, or one per node
of two nodes on the default threads), transfer.json and sqlite/seed.json.
Prints the Markdown report and writes DIR/pg-results.md and DIR/pg-results.json.
Exit status 3 when a target is missed, 0 otherwise.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import errors_of, load_run  # noqa: E402

FULL_SIZE = 1_000_000  # the search target is stated over 1M contacts

# scenario -> (label, min PostgreSQL/SQLite req/s ratio or None, max PostgreSQL p99 ms or None)
TARGETS = {
    "get_by_id": ("GET contact by id", 0.60, None),
    "list_filtered": ("GET contacts, 2 filters, limit 50", None, None),
    "search": ("POST contacts/search, limit 20", None, 30.0),
    "create": ("POST contact (durable create)", 0.50, None),
}
NODE_MIN = 1.0  # two nodes on two cores: total req/s not below one node's


def load_json(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def by_name(results):
    return {s["scenario"]: s for s in (results or {}).get("scenarios", []) if s.get("runs")}


def node_runs(raw, cfg, sc):
    """Per run: total req/s of the two wrk processes, the worse p99, the errors."""
    runs = []
    for a in sorted(glob.glob(os.path.join(raw, f"{cfg}.{sc}.run*.a.txt")),
                    key=lambda p: int(re.search(r"\.run(\d+)\.a\.txt$", p).group(1))):
        try:
            ra, rb = load_run(a), load_run(a[:-len("a.txt")] + "b.txt")
        except (ValueError, OSError):
            continue
        runs.append({"rps": ra["rps"] + rb["rps"], "rps_a": ra["rps"], "rps_b": rb["rps"],
                     "p99_ms": max(ra["latency_ms"]["p99"], rb["latency_ms"]["p99"]),
                     "errors": errors_of(ra) + errors_of(rb)})
    if not runs:
        return None
    return {"runs": runs, "rps": statistics.median(r["rps"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "errors": sum(r["errors"] for r in runs)}


def build(out):
    sq_doc = load_json(os.path.join(out, "sqlite", "results.json"))
    pg_doc = load_json(os.path.join(out, "postgres", "results.json"))
    sq, pg = by_name(sq_doc), by_name(pg_doc)
    seed = load_json(os.path.join(out, "sqlite", "seed.json")) or \
        load_json(os.path.join(out, "seed", "seed.json")) or {}
    contacts = seed.get("contacts")
    rows, all_pass = [], True
    for name, (label, min_ratio, max_p99) in TARGETS.items():
        s, p = sq.get(name), pg.get(name)
        row = {"scenario": name, "label": label, "min_ratio": min_ratio, "max_p99_ms": max_p99,
               "sqlite": s and {k: s[k] for k in ("rps", "p50_ms", "p99_ms", "errors")},
               "postgres": p and {k: p[k] for k in ("rps", "p50_ms", "p99_ms", "errors")}}
        reasons, notes = [], []
        row["ratio"] = p["rps"] / s["rps"] if s and p and s["rps"] else None
        if not p:
            reasons.append("no PostgreSQL figure")
        else:
            if min_ratio is not None:
                if row["ratio"] is None:
                    reasons.append("no SQLite figure to compare with")
                elif row["ratio"] < min_ratio:
                    reasons.append(f"{row['ratio'] * 100:.1f}% < {min_ratio * 100:.0f}%")
            if max_p99 is not None:
                if p["p99_ms"] > max_p99:
                    reasons.append(f"p99 {p['p99_ms']:.2f} > {max_p99:g} ms")
                if contacts is not None and contacts < FULL_SIZE:
                    notes.append(f"measured over {contacts:,} contacts, not {FULL_SIZE:,}")
            if p["errors"]:
                reasons.append(f"{p['errors']} errors")
        if min_ratio is None and max_p99 is None:
            row["result"] = "no target"
        else:
            row["pass"] = not reasons and not notes
            if reasons:
                row["result"] = "FAIL (" + "; ".join(reasons + notes) + ")"
            elif notes:
                row["result"] = "met at this size only (" + "; ".join(notes) + ")"
            else:
                row["result"] = "PASS"
            all_pass &= row["pass"]
        rows.append(row)

    nodes = []
    raw = os.path.join(out, "nodes", "raw")
    for name in ("get_by_id", "create"):
        one, two = node_runs(raw, "one", name), node_runs(raw, "two", name)
        if not one and not two:
            continue
        # Two nodes left on the default threads (a thread per core each): reported, not judged.
        two_default = node_runs(raw, "two_default", name)
        n = {"scenario": name, "label": TARGETS[name][0], "one": one, "two": two,
             "two_default": two_default}
        n["ratio"] = two["rps"] / one["rps"] if one and two and one["rps"] else None
        n["ratio_default"] = (two_default["rps"] / one["rps"]
                              if one and two_default and one["rps"] else None)
        reasons = []
        if n["ratio"] is None:
            reasons.append("missing runs")
        elif n["ratio"] < NODE_MIN:
            reasons.append(f"2 nodes {n['ratio'] * 100:.1f}% of 1 node")
        errs = sum((c or {}).get("errors", 0) for c in (one, two, two_default))
        if errs:
            reasons.append(f"{errs} errors")
        n["pass"] = not reasons
        n["result"] = "PASS" if n["pass"] else "FAIL (" + "; ".join(reasons) + ")"
        all_pass &= n["pass"]
        nodes.append(n)
    return {"contacts": contacts, "seed": seed, "scenarios": rows, "nodes": nodes,
            "transfer": load_json(os.path.join(out, "transfer.json")),
            "sqlite_meta": (sq_doc or {}).get("meta", {}),
            "postgres_meta": (pg_doc or {}).get("meta", {}), "pass": all_pass}


def f(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"


def markdown(doc, meta):
    out = ["# PostgreSQL beside SQLite", ""]
    if meta:
        out += [" · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in meta.items()), ""]
    sm = doc["sqlite_meta"]
    if sm.get("wrk_args"):
        out += [f"Load (both backends): `wrk {sm['wrk_args']}`, {sm.get('runs', '?')} runs per "
                "scenario, medians. SQLite first, then PostgreSQL, same machine, same invocation.", ""]
    if doc["contacts"]:
        out += [f"Data: {doc['contacts']:,} contacts + {doc['seed'].get('accounts', 0):,} accounts "
                f"(seed {doc['seed'].get('seed')}), seeded into SQLite, copied to PostgreSQL with "
                "`zebros transfer`.", ""]
    t = doc["transfer"]
    if t:
        out += [f"Transfer: {f(t['rows'])} rows in {t['seconds']:.1f} s = **{f(t['rows_per_s'])} "
                f"rows/s**; then VACUUM ANALYZE {t['vacuum_analyze_seconds']:.1f} s. Size: SQLite "
                f"data dir {t['sqlite_dir_bytes'] / 2**20:,.0f} MiB, PostgreSQL database "
                f"{t['pg_database_bytes'] / 2**20:,.0f} MiB.", ""]
    out += ["| Scenario | SQLite req/s | SQLite p99 (ms) | PostgreSQL req/s | PG p50 (ms) | "
            "PG p99 (ms) | PG / SQLite | target | result |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in doc["scenarios"]:
        s, p = r["sqlite"] or {}, r["postgres"] or {}
        ratio = "—" if r["ratio"] is None else f"{r['ratio'] * 100:.1f}%"
        tgt = []
        if r["min_ratio"] is not None:
            tgt.append(f"≥ {r['min_ratio'] * 100:.0f}% of SQLite")
        if r["max_p99_ms"] is not None:
            tgt.append(f"p99 ≤ {r['max_p99_ms']:g} ms over 1M contacts")
        out.append(f"| {r['label']} (`{r['scenario']}`) | {f(s.get('rps'))} | "
                   f"{f(s.get('p99_ms'), 2)} | {f(p.get('rps'))} | {f(p.get('p50_ms'), 2)} | "
                   f"{f(p.get('p99_ms'), 2)} | "
                   f"{ratio} | "
                   f"{', '.join(tgt) or '—'} | {r['result']} |")
    if doc["nodes"]:
        out += ["", "Two nodes on one PostgreSQL database (two wrk processes in parallel, each "
                "-t1 and half the connections; \"1 node\": both at node 1, on the default I/O "
                "threads (one per core); \"2 nodes\": one per node, each node given its share of "
                "the cores with `--threads` (see node threads above); \"2 nodes, default "
                "threads\": one per node, both on the default, reported and not judged; req/s = "
                "the sum, p99 = the worse of the two; medians of the runs):", "",
                "| Scenario | 1 node req/s | 1 node p99 (ms) | 2 nodes req/s | 2 nodes p99 (ms) | "
                "2 / 1 | target | result | 2 nodes, default threads: req/s | p99 (ms) | 2 / 1 |",
                "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|"]
        for n in doc["nodes"]:
            one, two, dflt = n["one"] or {}, n["two"] or {}, n.get("two_default") or {}
            ratio = "—" if n["ratio"] is None else f"{n['ratio'] * 100:.1f}%"
            ratio_default = ("—" if n.get("ratio_default") is None
                             else f"{n['ratio_default'] * 100:.1f}%")
            out.append(f"| {n['label']} (`{n['scenario']}`) | {f(one.get('rps'))} | "
                       f"{f(one.get('p99_ms'), 2)} | {f(two.get('rps'))} | {f(two.get('p99_ms'), 2)} | "
                       f"{ratio} | total ≥ 1 node | {n['result']} | {f(dflt.get('rps'))} | "
                       f"{f(dflt.get('p99_ms'), 2)} | {ratio_default} |")
        out += ["", "| nodes run | scenario | run | total req/s | wrk a | wrk b | worse p99 (ms) | errors |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for n in doc["nodes"]:
            for cfg in ("one", "two", "two_default"):
                for i, r in enumerate((n[cfg] or {}).get("runs", []), 1):
                    out.append(f"| {cfg} | {n['scenario']} | {i} | {r['rps']:,.0f} | {r['rps_a']:,.0f} | "
                               f"{r['rps_b']:,.0f} | {r['p99_ms']:.2f} | {r['errors']} |")
    out += ["", f"Overall: **{'PASS' if doc['pass'] else 'FAIL'}**"]
    return "\n".join(out) + "\n"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--meta", action="append", default=[])
    args = p.parse_args(argv)
    meta = dict(kv.split("=", 1) for kv in args.meta if "=" in kv)
    doc = build(args.out)
    doc["meta"] = meta
    md = markdown(doc, meta)
    sys.stdout.write(md)
    with open(os.path.join(args.out, "pg-results.md"), "w", encoding="utf-8") as fh:
        fh.write(md)
    with open(os.path.join(args.out, "pg-results.json"), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    return 0 if doc["pass"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
