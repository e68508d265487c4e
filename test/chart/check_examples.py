#!/usr/bin/python3
"""Checks examples/ beyond what promtool and amtool see.

  check_examples.py EXAMPLES_DIR CHART_DIR OUT_PROMETHEUS_YML

- examples/vigil.json: the agent's config keys (agent/config.cpp), every checker type of
  design.md exactly once or more, unique instance names, and only the keys each checker type
  reads (checkers/*.cpp, SpecReader calls, as of this writing: keep in sync).
- examples/alertmanager/alertmanager.yml: every alert name its matchers and inhibit rules name
  exists in chart/files/alerts.yaml (a renamed alert must not silently stop routing).
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


def check_agent_config(path, problems):
    with open(path) as f:
        cfg = json.load(f)
    for k in cfg:
        if k not in AGENT_KEYS:
            problems.append(f"{path}: unknown agent key {k!r}")
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
