#!/usr/bin/python3
"""Table of mesh_bench.py results: metric, vigil, serf, vigil/serf per N (markdown on stdout,
JSON to --json). Targets are those of the issue (ratios to serf in the same run)."""
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", required=True, help="write the table here")
    ap.add_argument("results", nargs="*")
    a = ap.parse_args()
    runs = {}
    for p in a.results:
        with open(p) as f:
            r = json.load(f)
        runs[(r["N"], r["impl"])] = r
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
