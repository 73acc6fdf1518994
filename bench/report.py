#!/usr/bin/env python3
"""Turns the raw wrk outputs of bench/run.sh into the results table (Python 3 stdlib only).

  report.py summary FILE
      one line about one wrk output (req/s, p50, p99, errors)
  report.py table --raw DIR --scenarios "nginx get_by_id ..." [--rss FILE] [--meta K=V ...]
                  [--md FILE] [--json FILE]
      reads DIR/<scenario>.run<N>.txt (wrk stdout with the "@@WRK_JSON {...}" line printed by
      bench/wrk/common.lua) and DIR/<scenario>.skipped (a reason), takes per scenario the median
      over the runs of req/s, p50 and p99 (each median taken separately), compares them with the
      targets below, prints the Markdown report and writes it (and the raw data as JSON).
      Exit status 3 when a target is missed, 0 otherwise.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

MARK = "@@WRK_JSON "
RSS_LIMIT_MIB = 200

# An authenticated read with an access token costs within 10% of one with an API key.
TOKEN_VS_KEY_MIN = 0.90

# name -> (label, min ratio to nginx req/s or None, max p99 ms or None)
SCENARIOS = {
    "nginx": ("nginx static 200 B JSON (ceiling)", None, None),
    "get_by_id": ("GET contact by id", 0.40, 10.0),
    "get_by_id_jwt": ("GET contact by id, OIDC access token", 0.40, 10.0),
    "list_filtered": ("GET contacts, 2 filters, limit 50", 0.20, 10.0),
    "search": ("POST contacts/search, limit 20", None, 20.0),
    # The same requests with `Cache-Control: no-cache`: every page read afresh (no page cache).
    "list_filtered_fresh": ("GET contacts, 2 filters, limit 50, no-cache", 0.20, 10.0),
    "search_fresh": ("POST contacts/search, limit 20, no-cache", None, 20.0),
    "create": ("POST contact (durable create)", 0.15, 10.0),
}


def load_run(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
    raise ValueError(f"{path}: no {MARK.strip()} line (did wrk fail?)")


def errors_of(run):
    e = run.get("errors", {})
    socket_errors = sum(int(e.get(k) or 0) for k in ("connect", "read", "write", "timeout"))
    return socket_errors + int(run.get("non_2xx") or 0)


def summary(path):
    run = load_run(path)
    lat = run["latency_ms"]
    return (f"{run['rps']:,.0f} req/s  p50 {lat['p50']:.2f} ms  p90 {lat['p90']:.2f} ms  "
            f"p99 {lat['p99']:.2f} ms  errors {errors_of(run)}")


def fmt_num(v, digits=2):
    return "—" if v is None else f"{v:,.{digits}f}"


def target_text(min_ratio, max_p99):
    parts = []
    if min_ratio is not None:
        parts.append(f"≥ {min_ratio * 100:.0f}% of nginx")
    if max_p99 is not None:
        parts.append(f"p99 ≤ {max_p99:g} ms")
    return ", ".join(parts) or "—"


def build(raw_dir, names, rss_file, meta):
    scenarios = []
    for name in names:
        label, min_ratio, max_p99 = SCENARIOS.get(name, (name, None, None))
        entry = {"scenario": name, "label": label, "min_ratio": min_ratio, "max_p99_ms": max_p99,
                 "runs": [], "skipped": None}
        skipped = os.path.join(raw_dir, f"{name}.skipped")
        if os.path.exists(skipped):
            with open(skipped, encoding="utf-8", errors="replace") as f:
                entry["skipped"] = f.read().strip() or "skipped"
        files = sorted(glob.glob(os.path.join(raw_dir, f"{name}.run*.txt")),
                       key=lambda p: int(re.search(r"\.run(\d+)\.txt$", p).group(1)))
        for path in files:
            try:
                entry["runs"].append(load_run(path))
            except ValueError as e:
                entry.setdefault("bad_runs", []).append(str(e))
        if entry["runs"]:
            entry["rps"] = statistics.median(r["rps"] for r in entry["runs"])
            entry["p50_ms"] = statistics.median(r["latency_ms"]["p50"] for r in entry["runs"])
            entry["p99_ms"] = statistics.median(r["latency_ms"]["p99"] for r in entry["runs"])
            entry["errors"] = sum(errors_of(r) for r in entry["runs"])
        scenarios.append(entry)

    base = next((s for s in scenarios if s["scenario"] == "nginx" and s["runs"]), None)
    all_pass = True
    for s in scenarios:
        s["ratio"] = (s["rps"] / base["rps"]) if base and s["runs"] and base["rps"] else None
        if s["scenario"] == "nginx":
            s["result"] = "baseline" if s["runs"] else f"FAIL ({s['skipped'] or 'no runs'})"
            s["pass"] = bool(s["runs"])
            all_pass &= s["pass"]
            continue
        reasons = []
        if not s["runs"]:
            reasons.append(s["skipped"] or "; ".join(s.get("bad_runs", [])) or "no runs")
        else:
            if s["min_ratio"] is not None:
                if s["ratio"] is None:
                    reasons.append("no nginx baseline to compare with")
                elif s["ratio"] < s["min_ratio"]:
                    reasons.append(f"{s['ratio'] * 100:.1f}% < {s['min_ratio'] * 100:.0f}%")
            if s["max_p99_ms"] is not None and s["p99_ms"] > s["max_p99_ms"]:
                reasons.append(f"p99 {s['p99_ms']:.2f} > {s['max_p99_ms']:g} ms")
            if s["errors"]:
                reasons.append(f"{s['errors']} errors")
            key_read = next((o for o in scenarios if o["scenario"] == "get_by_id" and o["runs"]),
                            None)
            if s["scenario"] == "get_by_id_jwt" and key_read:
                s["vs_key"] = s["rps"] / key_read["rps"]
                if s["vs_key"] < TOKEN_VS_KEY_MIN:
                    reasons.append(f"{s['vs_key'] * 100:.1f}% of the API-key read < "
                                   f"{TOKEN_VS_KEY_MIN * 100:.0f}%")
            if s.get("bad_runs"):
                reasons.append(f"{len(s['bad_runs'])} failed runs")
        s["pass"] = not reasons
        s["result"] = "PASS" if s["pass"] else "FAIL (" + "; ".join(reasons) + ")"
        all_pass &= s["pass"]

    rss = []
    if rss_file and os.path.exists(rss_file):
        with open(rss_file, encoding="utf-8") as f:
            rss = [json.loads(line) for line in f if line.strip()]
    for r in rss:
        r["vmrss_mib"] = r["vmrss_kb"] / 1024 if r.get("vmrss_kb") is not None else None
        r["vmhwm_mib"] = r["vmhwm_kb"] / 1024 if r.get("vmhwm_kb") is not None else None
        r["pass"] = r["vmrss_mib"] is not None and r["vmrss_mib"] <= RSS_LIMIT_MIB
        all_pass &= r["pass"]
    peak = None
    if rss:
        peak = {"vmhwm_mib": max((r["vmhwm_mib"] or 0) for r in rss)}
        peak["pass"] = peak["vmhwm_mib"] <= RSS_LIMIT_MIB
        all_pass &= peak["pass"]
    return {"meta": meta, "scenarios": scenarios, "rss": rss, "rss_peak": peak,
            "rss_limit_mib": RSS_LIMIT_MIB, "pass": all_pass}


def markdown(doc):
    m = doc["meta"]
    out = ["# Zebros CRM benchmark results", ""]
    line = []
    for key in ("run_id", "cpus", "cpu_model", "kernel"):
        if m.get(key):
            line.append(f"{key.replace('_', ' ')}: {m[key]}")
    if line:
        out += [" · ".join(line), ""]
    if m.get("wrk_args"):
        out += [f"Load: `wrk {m['wrk_args']}`, {m.get('runs', '?')} run(s) per scenario, "
                f"medians reported (req/s, p50 and p99 each the median of the runs).", ""]
    if m.get("dataset"):
        out += [f"Data: {m['dataset']}", ""]
    out += ["| Scenario | req/s (median) | ratio to nginx | p50 (ms) | p99 (ms) | errors | target | result |",
            "|---|---:|---:|---:|---:|---:|---|---|"]
    for s in doc["scenarios"]:
        ratio = f"{s['ratio'] * 100:.1f}%" if s.get("ratio") is not None else "—"
        if s["runs"]:
            out.append(f"| {s['label']} (`{s['scenario']}`) | {s['rps']:,.0f} | {ratio} | "
                       f"{s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['errors']} | "
                       f"{target_text(s['min_ratio'], s['max_p99_ms'])} | {s['result']} |")
        else:
            out.append(f"| {s['label']} (`{s['scenario']}`) | — | — | — | — | — | "
                       f"{target_text(s['min_ratio'], s['max_p99_ms'])} | {s['result']} |")
    for s in doc["scenarios"]:
        if s.get("vs_key") is not None:
            out += ["", f"Token read vs API-key read: {s['vs_key'] * 100:.1f}% of the req/s "
                        f"(target ≥ {TOKEN_VS_KEY_MIN * 100:.0f}%)."]
    if doc["rss"]:
        out += ["", f"Memory of the zebros process (target: RSS ≤ {doc['rss_limit_mib']} MiB):", "",
                "| when | VmRSS (MiB) | VmHWM, peak so far (MiB) | result |", "|---|---:|---:|---|"]
        for r in doc["rss"]:
            out.append(f"| {r['label']} | {fmt_num(r['vmrss_mib'], 1)} | {fmt_num(r['vmhwm_mib'], 1)} | "
                       f"{'PASS' if r['pass'] else 'FAIL'} |")
        p = doc["rss_peak"]
        out.append(f"| peak over the whole run (VmHWM) | — | {p['vmhwm_mib']:.1f} | "
                   f"{'PASS' if p['pass'] else 'FAIL'} |")
    out += ["", f"Overall: **{'PASS' if doc['pass'] else 'FAIL'}**", "", "## Individual runs", "",
            "| scenario | run | req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | non-2xx | socket errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in doc["scenarios"]:
        for i, r in enumerate(s["runs"], 1):
            lat, e = r["latency_ms"], r.get("errors", {})
            sock = sum(int(e.get(k) or 0) for k in ("connect", "read", "write", "timeout"))
            out.append(f"| {s['scenario']} | {i} | {r['rps']:,.0f} | {lat['p50']:.2f} | "
                       f"{lat['p90']:.2f} | {lat['p99']:.2f} | {lat['max']:.2f} | "
                       f"{r.get('non_2xx', 0)} | {sock} |")
    rest = {k: v for k, v in m.items() if k not in ("run_id", "cpus", "cpu_model", "kernel",
                                                     "wrk_args", "dataset")}
    if rest:
        out += ["", "## Environment", ""]
        out += [f"- {k}: {v}" for k, v in sorted(rest.items())]
    return "\n".join(out) + "\n"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary")
    s.add_argument("file")
    t = sub.add_parser("table")
    t.add_argument("--raw", required=True)
    t.add_argument("--scenarios", required=True)
    t.add_argument("--rss")
    t.add_argument("--meta", action="append", default=[], help="KEY=VALUE, shown in the report")
    t.add_argument("--seed-json", help="seed.json written by bench/seed.py")
    t.add_argument("--seeded-now", default="1", help="1 when the data was seeded in this run")
    t.add_argument("--md")
    t.add_argument("--json")
    args = p.parse_args(argv)
    if args.cmd == "summary":
        try:
            print(summary(args.file))
        except (ValueError, OSError) as e:
            print(f"no result: {e}")
            return 1
        return 0
    meta = dict(kv.split("=", 1) for kv in args.meta if "=" in kv)
    if args.seed_json and os.path.exists(args.seed_json):
        with open(args.seed_json, encoding="utf-8") as f:
            d = json.load(f)
        rate = d.get("contacts_per_s")
        meta["dataset"] = (f"{d['contacts']:,} contacts + {d['accounts']:,} accounts, seed {d['seed']}"
                           + (f", seeded at {rate:,} contacts/s" if rate else "")
                           + (" in this run" if args.seeded_now == "1" else " (reused data dir)"))
    doc = build(args.raw, args.scenarios.split(), args.rss, meta)
    md = markdown(doc)
    sys.stdout.write(md)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return 0 if doc["pass"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
