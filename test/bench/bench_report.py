#!/usr/bin/python3
"""Table of mesh_bench.py results: metric, vigil, serf, vigil/serf per N (markdown on stdout,
JSON to --json). Targets are those of the issue (ratios to serf in the same run).
--scale: the table of scripts/bench-scale.sh instead (mesh_bench.py --mode scale results): per N,
one row per implementation and one of vigil/serf ratios, then vigil's and serf's bytes per agent
at the largest N over the smallest."""
import argparse
import json
import sys


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


# (key, label, unit, path in a result, scale, target ratio or None)
METRICS = [
    ("join_all_s", "join convergence, all agents see N alive", "s", "join.all_s", 1, None),
    ("detect_first_s", "kill -9 detection, first survivor (median of trials)", "s",
     "detect.median_first_s", 1, None),
    ("detect_all_s", "kill -9 detection, every survivor (median of trials)", "s",
     "detect.median_all_s", 1, 1.0),
    ("detect_pooled_median_s", "kill -9 detection, median over all survivors and trials", "s",
     "detect.pooled_median_s", 1, None),
    ("rss_mib", "idle RSS per agent (mean)", "MiB", "idle.rss_kib.mean", 1 / 1024, 0.3),
    ("rss_anon_mib", "  of which anonymous (heap, stacks)", "MiB", "idle.rss_anon_kib_mean", 1 / 1024,
     None),
    ("rss_file_mib", "  of which file-backed (binary, shared libraries)", "MiB",
     "idle.rss_file_kib_mean", 1 / 1024, None),
    ("cpu_s_per_min", "idle CPU per agent (mean)", "s/min", "idle.cpu_s_per_agent_per_min.mean", 1,
     0.5),
    ("bytes_per_s", "wire bytes per agent, UDP+TCP (IP level)", "B/s",
     "idle.wire_per_agent_per_s.bytes_L3", 1, 1.0),
    ("udp_bytes_per_s", "  of which UDP", "B/s", "idle.wire_per_agent_per_s.udp_bytes_L3", 1, None),
    ("tcp_bytes_per_s", "  of which TCP", "B/s", "idle.wire_per_agent_per_s.tcp_bytes_L3", 1, None),
    ("udp_pkts_per_s", "UDP packets sent per agent", "1/s", "idle.wire_per_agent_per_s.udp_pkts", 1,
     None),
    ("threads", "threads per agent", "", "idle.threads_agent0", 1, None),
]


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


# (key, column header, path in a result, scale)
SCALE_COLUMNS = [
    ("bytes_per_s", "B/s per agent (IP, window)", "idle.wire_per_agent_per_s.bytes_L3", 1),
    ("max_step_bytes_per_s", "max 30-s step B/s", "idle.step_summary.max_bytes_per_agent_per_s", 1),
    ("max_step_over_mean", "max step / mean", "idle.step_summary.max_over_mean", 1),
    ("cpu_s_per_min", "CPU s/min", "idle.cpu_s_per_agent_per_min.mean", 1),
    ("rss_mib_mean", "RSS MiB mean", "idle.rss_kib.mean", 1 / 1024),
    ("rss_mib_max", "RSS MiB max", "idle.rss_kib.max", 1 / 1024),
    ("change_median_s", "change everywhere median s", "change.median_all_s", 1),
    ("change_max_s", "change everywhere max s", "change.max_all_s", 1),
    ("join_s", "join s", "join.all_s", 1),
]


def scale_table(runs):
    sizes = sorted({n for n, _ in runs})
    rows, lines = [], []
    head = ["N", "impl"] + [c[1] for c in SCALE_COLUMNS]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for n in sizes:
        vals = {}
        for impl in ("vigil", "serf"):
            r = runs.get((n, impl))
            if r is None:
                continue
            v = {}
            for key, _, path, scale in SCALE_COLUMNS:
                x = get(r, path)
                v[key] = None if x is None else x * scale
            vals[impl] = v
            rows.append(dict(n=n, impl=impl, **v))
            lines.append("| %d | %s | %s |" % (n, impl, " | ".join(fmt(v[c[0]]) for c in SCALE_COLUMNS)))
        if "vigil" in vals and "serf" in vals:
            ratio = {}
            for key, *_ in SCALE_COLUMNS:
                x, y = vals["vigil"][key], vals["serf"][key]
                ratio[key] = x / y if x is not None and y else None
            rows.append(dict(n=n, impl="vigil/serf", **ratio))
            lines.append("| %d | vigil/serf | %s |" % (n, " | ".join(
                "-" if ratio[c[0]] is None else "%.2f" % ratio[c[0]] for c in SCALE_COLUMNS)))
    growth = {}
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for impl in ("vigil", "serf"):
            x = get(runs.get((lo, impl), {}), "idle.wire_per_agent_per_s.bytes_L3")
            y = get(runs.get((hi, impl), {}), "idle.wire_per_agent_per_s.bytes_L3")
            if x and y is not None:
                growth[impl] = y / x
                lines.append("")
                lines.append("%s bytes per agent, N=%d / N=%d: %.2f (%s -> %s B/s)" % (
                    impl, hi, lo, y / x, fmt(x), fmt(y)))
    for (n, impl), r in sorted(runs.items()):
        idle = r.get("idle", {})
        ch = r.get("change", {})
        notes = []
        if idle.get("suspicions_during_window"):
            notes.append("%d suspicions during the idle window" % idle["suspicions_during_window"])
        if r.get("after_idle_all_alive_at") not in (None, n):
            notes.append("only %s of %d agents listed N alive after the window"
                         % (r["after_idle_all_alive_at"], n))
        if ch and ch.get("complete_trials") != ch.get("trials"):
            notes.append("change visible everywhere in %s of %s trials within %s s"
                         % (ch.get("complete_trials"), ch.get("trials"), ch.get("timeout_s")))
        if impl == "vigil" and ch.get("median_propagation_s") is not None:
            notes.append("change: origin's checker reported the failure after %s s (median), "
                         "then everywhere %s s later (median); undo everywhere %s s (median); "
                         "poll round %s s" % (fmt(ch.get("median_origin_failed_after_s")),
                                              fmt(ch.get("median_propagation_s")),
                                              fmt(ch.get("undo_median_all_s")),
                                              fmt(ch.get("mean_poll_round_s"))))
        elif ch:
            notes.append("change: undo everywhere %s s (median); poll round %s s"
                         % (fmt(ch.get("undo_median_all_s")), fmt(ch.get("mean_poll_round_s"))))
        if r.get("final_status"):
            notes.append("probes at the end (agent n0's /v1/status, all nodes): %s" % ", ".join(
                "%s: %d" % kv for kv in r["final_status"].items()))
        if r.get("error"):
            notes.append("ERROR: %s" % r["error"])
        if notes:
            lines.append("")
            lines.append("%s N=%d: %s" % (impl, n, "; ".join(notes)))
    return rows, growth, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True, help="write the table here")
    ap.add_argument("--scale", action="store_true", help="the table of scripts/bench-scale.sh")
    ap.add_argument("--note", default="", help="--scale: a line printed under the table and kept in the JSON")
    ap.add_argument("results", nargs="*")
    a = ap.parse_args()
    runs = {}
    for p in a.results:
        with open(p) as f:
            r = json.load(f)
        runs[(r["N"], r["impl"])] = r
    if a.scale:
        rows, growth, lines = scale_table(runs)
        if a.note:
            lines += ["", a.note]
        print("\n".join(lines))
        meta = {impl: {"version": r.get("version"), "encrypted": r.get("encrypted")}
                for (n, impl), r in runs.items()}
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "bytes_growth_largest_over_smallest_n": growth,
                       "note": a.note, "implementations": meta,
                       "runs": {"%s-n%d" % (impl, n): r for (n, impl), r in runs.items()}}, f, indent=1)
        return 0 if runs and all(r.get("error") is None for r in runs.values()) else 1
    sizes = sorted({n for n, _ in runs})
    rows = []
    lines = ["| N | metric | vigil | serf | vigil/serf | target |", "|---|---|---|---|---|---|"]
    for n in sizes:
        v, s = runs.get((n, "vigil"), {}), runs.get((n, "serf"), {})
        for key, label, unit, path, scale, target in METRICS:
            vv, sv = get(v, path), get(s, path)
            vv = None if vv is None else vv * scale
            sv = None if sv is None else sv * scale
            ratio = vv / sv if vv is not None and sv else None
            meets = None if target is None or ratio is None else ratio <= target
            rows.append({"n": n, "metric": key, "label": label, "unit": unit, "vigil": vv,
                         "serf": sv, "ratio": ratio, "target_max_ratio": target, "meets": meets})
            tgt = "" if target is None else ("<= %.1fx %s" % (target, {True: "ok", False: "MISSED",
                                                                         None: "?"}[meets]))
            lines.append("| %d | %s%s | %s | %s | %s | %s |" % (
                n, label, " (%s)" % unit if unit else "", fmt(vv), fmt(sv),
                "-" if ratio is None else "%.2f" % ratio, tgt))
        vb = get(v, "idle.self_reported_bytes_out_per_agent_per_s")
        if vb is not None:
            lines.append("| %d | vigil's own vigil_gossip_bytes_total{direction=\"out\"} per agent (B/s) "
                         "| %s | | | |" % (n, fmt(vb)))
        for impl, r in (("vigil", v), ("serf", s)):
            if r.get("error"):
                lines.append("| %d | %s ERROR: %s | | | | |" % (n, impl, r["error"]))
    print("\n".join(lines))
    meta = {k: {"version": r.get("version"), "encrypted": r.get("encrypted")} for k, r in
            ((impl, r) for (n, impl), r in runs.items())}
    with open(a.json, "w") as f:
        json.dump({"rows": rows, "implementations": meta,
                   "runs": {"%s-n%d" % (impl, n): r for (n, impl), r in runs.items()}}, f, indent=1)
    return 0 if all(r.get("error") is None for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
