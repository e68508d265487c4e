#!/usr/bin/python3
"""Checks examples/ beyond what promtool and amtool see.

  check_examples.py EXAMPLES_DIR CHART_DIR OUT_PROMETHEUS_YML

- examples/vigil.json: the agent's config keys (agent/config.cpp), every checker type of
  design.md exactly once or more, unique instance names, and only the keys each checker type
  reads (checkers/*.cpp, SpecReader calls, as of this writing: keep in sync).
- examples/vigil.json: its `history` section holds only `retention`, a duration the agent
  accepts (agent/config.cpp parse_retention: "168h", "7d", "1d12h").
- examples/alertmanager/alertmanager.yml: every alert name its matchers and inhibit rules name
  exists in chart/files/alerts.yaml (a renamed alert must not silently stop routing); every
  inhibit rule's `equal` label is carried by each alert its source and target matchers select
  (Alertmanager compares a missing label as "", so a label only one side has never matches),
  and a rule between per-node alerts has an `equal` (else one node's alert silences the target
  on every node). An alert's labels are those its promtool tests expect
  (test/chart/alerts_test.yaml, exp_labels), so they are the labels the rules really produce.
- examples/prometheus/prometheus.yml: writes a copy to OUT_PROMETHEUS_YML with
  kubernetes_sd_configs replaced by an empty static_configs, because Debian's Prometheus is built
  without Kubernetes discovery and its promtool rejects the key; promtool then checks the rest
  (relabel regexes, rule_files). test/chart/scrape_test.sh runs the relabeling for real.
"""

import json
import os
import re
import sys

import yaml

AGENT_KEYS = {"name", "bind", "advertise", "http", "data_dir", "keyring", "profile", "log_level",
              "log_format", "join", "tags", "gossip", "checkers", "history", "metrics"}
COMMON = {"type", "name", "interval", "timeout", "failure_threshold", "success_threshold",
          "severity"}
TLS = {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}
CHECKER_KEYS = {
    "docker": {"socket", "check_health"},
    "containerd": {"socket", "conditions"},
    "etcd": {"endpoints", "check_leader"} | TLS,
    "apiserver": {"direct_url", "dns_url", "path", "token_file"} | TLS,
    "kubelet": {"url"} | TLS,
    "systemd": {"units", "ok_states", "count_failed", "max_failed_units", "bus"},
    "ping": {"count", "packet_interval", "reply_timeout", "max_peers_per_round", "peers",
             "targets", "loss_threshold"},
    "tcp": {"address", "warn_latency"},
    "http": {"url", "method", "headers", "expected_status", "body_contains", "warn_latency"} | TLS,
    "dns": {"query", "server", "record_type", "expect", "warn_latency"},
    "disk": {"paths", "warning", "critical", "inodes_warning", "inodes_critical"},
    "time-drift": {"warning", "critical", "max_age"},
    "exec": {"command", "env", "workdir", "output_limit"},
}


# A history.retention the agent accepts: whole days first, then a Go-style duration.
RETENTION = re.compile(r"(?=.)([0-9]{1,6}d)?([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))*")
# Labels that make an alert per node (its node, or one end of a link, or the scraped agent's).
PER_NODE = {"node", "source_node", "destination_node", "observer"}


def check_agent_config(path, problems):
    with open(path) as f:
        cfg = json.load(f)
    for k in cfg:
        if k not in AGENT_KEYS:
            problems.append(f"{path}: unknown agent key {k!r}")
    history = cfg.get("history", {})
    if not isinstance(history, dict) or set(history) - {"retention"}:
        problems.append(f"{path}: history must be an object with only retention")
    elif "retention" in history and not (isinstance(history["retention"], str) and
                                         RETENTION.fullmatch(history["retention"])):
        problems.append(f"{path}: history.retention {history['retention']!r} is no duration")
    names = []
    types = set()
    for i, ch in enumerate(cfg.get("checkers", [])):
        t = ch.get("type")
        if t not in CHECKER_KEYS:
            problems.append(f"{path}: checkers[{i}]: unknown type {t!r}")
            continue
        types.add(t)
        names.append(ch.get("name", t))
        for k in ch:
            if k not in COMMON | CHECKER_KEYS[t]:
                problems.append(f"{path}: checkers[{i}] ({t}): unknown key {k!r}")
        if ch.get("severity", "critical") not in ("critical", "warning"):
            problems.append(f"{path}: checkers[{i}]: severity must be critical or warning")
    missing = set(CHECKER_KEYS) - types
    if missing:
        problems.append(f"{path}: no example of checker types {sorted(missing)}")
    if len(names) != len(set(names)):
        problems.append(f"{path}: checker instance names not unique: {names}")


def alert_names(chart):
    with open(os.path.join(chart, "files", "alerts.yaml")) as f:
        return {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r}


def alert_labels(tests_path):
    """alert name -> the labels every one of its expected firings has (alerts_test.yaml)."""
    with open(tests_path) as f:
        doc = yaml.safe_load(f)
    labels = {}
    for t in doc.get("tests", []):
        for a in t.get("alert_rule_test", []):
            for e in a.get("exp_alerts") or []:
                have = set(e.get("exp_labels", {}))
                name = a["alertname"]
                labels[name] = labels[name] & have if name in labels else have
    return labels


def selected(matchers, alerts):
    """Alert names a list of `alertname = "X"` / `alertname =~ "A|B"` matchers selects."""
    names = set(alerts)
    for m in matchers:
        mm = re.fullmatch(r'\s*alertname\s*(=~|=)\s*"([^"]+)"\s*', m)
        if not mm:
            continue  # a matcher on another label narrows nothing by name
        op, value = mm.groups()
        names = {a for a in names if (a == value if op == "=" else re.fullmatch(value, a))}
    return names


def check_inhibitions(path, alerts, labels, problems):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    rules = cfg.get("inhibit_rules", [])
    if not rules:
        problems.append(f"{path}: no inhibit rules")
    for i, r in enumerate(rules):
        where = f"{path}: inhibit_rules[{i}]"
        for old in ("source_match", "source_match_re", "target_match", "target_match_re"):
            if old in r:
                problems.append(f"{where}: {old} is deprecated; use source_/target_matchers")
        src = selected(r.get("source_matchers", []), alerts)
        dst = selected(r.get("target_matchers", []), alerts)
        if not src or not dst:
            problems.append(f"{where}: selects no source or no target alert")
            continue
        for name in sorted(src | dst):
            if name not in labels:
                problems.append(f"{where}: {name} has no exp_labels in alerts_test.yaml")
        equal = r.get("equal", [])
        for label in equal:
            for name in sorted(src | dst):
                if name in labels and label not in labels[name]:
                    side = "source" if name in src else "target"
                    problems.append(f"{where}: equal [{label}] never matches: {side} {name} has "
                                    f"no label {label} (it has {sorted(labels[name])})")
        if not equal:
            src_node = {n for n in src if labels.get(n, set()) & PER_NODE}
            dst_node = {n for n in dst if labels.get(n, set()) & PER_NODE}
            if src_node and dst_node:
                problems.append(f"{where}: no equal between per-node alerts: one node's "
                                f"{sorted(src_node)[0]} silences {sorted(dst_node)[0]} on every node")


def check_alertmanager(path, alerts, problems):
    with open(path) as f:
        text = f.read()
    # alertname = "X" and alertname =~ "A|B.*" matchers anywhere in routes and inhibit rules.
    found = 0
    for m in re.finditer(r'alertname\s*(=~|=)\s*"([^"]+)"', text):
        op, value = m.groups()
        found += 1
        if op == "=":
            if value not in alerts:
                problems.append(f"{path}: matcher alertname={value} names no alert")
        else:
            rx = re.compile(f"^(?:{value})$")
            for part in value.split("|"):
                if not any(re.fullmatch(part, a) for a in alerts):
                    problems.append(f"{path}: matcher alertname=~{value}: {part} matches no alert")
            if not any(rx.match(a) for a in alerts):
                problems.append(f"{path}: matcher alertname=~{value} matches no alert")
    if found < 3:
        problems.append(f"{path}: expected routes and inhibit rules on vigil alert names")


def promtool_copy(path, out, problems):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in cfg.get("scrape_configs", [])}
    if "vigil" not in jobs:
        problems.append(f"{path}: no scrape job vigil")
    for j in jobs.values():
        if "kubernetes_sd_configs" in j:
            j.pop("kubernetes_sd_configs")
            j["static_configs"] = [{"targets": []}]
    with open(out, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


def main(argv):
    examples, chart, out = argv[1:4]
    problems = []
    check_agent_config(os.path.join(examples, "vigil.json"), problems)
    check_alertmanager(os.path.join(examples, "alertmanager", "alertmanager.yml"),
                       alert_names(chart), problems)
    check_inhibitions(os.path.join(examples, "alertmanager", "alertmanager.yml"),
                      alert_names(chart),
                      alert_labels(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "alerts_test.yaml")), problems)
    promtool_copy(os.path.join(examples, "prometheus", "prometheus.yml"), out, problems)
    with open(os.path.join(examples, "kubernetes", "vigil.yaml")) as f:
        if "scripts/render-examples.sh" not in f.read(600):
            problems.append("examples/kubernetes/vigil.yaml: header naming its generator missing")
    for p in problems:
        print(p)
    print(f"examples: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
