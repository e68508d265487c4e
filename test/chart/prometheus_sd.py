#!/usr/bin/python3
"""Helpers for the `agents` test: a runnable copy of examples/prometheus/prometheus.yml, and
checks of Prometheus' API answers.

  prometheus_sd.py EXAMPLE.yml DIR HTTP_PORT_N1 HTTP_PORT_N2
      writes DIR/prometheus-test.yml (the example's vigil job with its relabel_configs
      verbatim, kubernetes_sd_configs replaced by file_sd_configs, 1 s intervals) and
      DIR/targets.json: the two agents with the __meta_kubernetes_* labels pod discovery sets,
      plus targets the relabeling must drop (the gossip port, another app, a pending pod).
  prometheus_sd.py --check-targets [--verbose] < /api/v1/targets answer
  prometheus_sd.py --check-rules ALERTS.yaml < /api/v1/rules answer
"""

import json
import os
import sys

import yaml


def pod(port, node, pod_name, port_name="http", app="vigil", phase="Running"):
    return {"targets": [f"127.0.0.1:{port}"], "labels": {
        "__meta_kubernetes_namespace": "vigil",
        "__meta_kubernetes_pod_name": pod_name,
        "__meta_kubernetes_pod_node_name": node,
        "__meta_kubernetes_pod_phase": phase,
        "__meta_kubernetes_pod_controller_kind": "DaemonSet",
        "__meta_kubernetes_pod_container_port_name": port_name,
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": app,
    }}


def generate(example, work, h1, h2):
    cfg = yaml.safe_load(open(example))
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "vigil")
    job.pop("kubernetes_sd_configs")
    job["file_sd_configs"] = [{"files": [os.path.join(work, "targets.json")]}]
    job["scrape_interval"] = "1s"
    job["scrape_timeout"] = "1s"
    cfg["scrape_configs"] = [job]
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    with open(os.path.join(work, "prometheus-test.yml"), "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    groups = [pod(h1, "n1", "vigil-aaaaa"), pod(h2, "n2", "vigil-bbbbb"),
              pod(h1, "n1", "vigil-aaaaa", port_name="gossip-tcp"),
              pod(h2, "n2", "node-exporter-ccccc", app="node-exporter"),
              pod(h2, "n3", "vigil-ddddd", phase="Pending")]
    with open(os.path.join(work, "targets.json"), "w") as f:
        json.dump(groups, f, indent=1)


def check_targets(verbose):
    data = json.load(sys.stdin)["data"]
    active = data["activeTargets"]
    dropped = data["droppedTargets"]
    observers = sorted(t["labels"].get("observer", "") for t in active)
    problems = []
    if observers != ["n1", "n2"]:
        problems.append(f"active targets' observers {observers}, want n1, n2")
    for t in active:
        lb = t["labels"]
        if lb.get("job") != "vigil" or lb.get("namespace") != "vigil" or not lb.get("pod"):
            problems.append(f"target labels {lb}")
        if "node" in lb:
            problems.append("a `node` target label would clash with the metrics' own")
        if t["health"] != "up":
            problems.append(f"{t['scrapeUrl']}: health {t['health']} {t.get('lastError')}")
    if len(dropped) != 3:
        problems.append(f"{len(dropped)} dropped targets, want 3 (gossip port, other app, pending)")
    if verbose or problems:
        for t in active:
            print("active:", t["scrapeUrl"], t["health"], json.dumps(t["labels"], sort_keys=True))
        print(f"dropped: {len(dropped)}")
        for p in problems:
            print(p)
    return 1 if problems else 0


def check_rules(alerts_file):
    want = {r["alert"] for g in yaml.safe_load(open(alerts_file))["groups"] for r in g["rules"]}
    got = {}
    for g in json.load(sys.stdin)["data"]["groups"]:
        for r in g["rules"]:
            if r["type"] == "alerting":
                got[r["name"]] = (r["health"], r.get("lastEvaluation", ""))
    bad = [n for n in want if n not in got or got[n][0] != "ok"
           or got[n][1].startswith("0001-")]
    for n in bad:
        print(f"rule {n}: {got.get(n)}")
    return 1 if bad or set(got) != want else 0


if __name__ == "__main__":
    if sys.argv[1] == "--check-targets":
        sys.exit(check_targets("--verbose" in sys.argv))
    if sys.argv[1] == "--check-rules":
        sys.exit(check_rules(sys.argv[2]))
    generate(*sys.argv[1:5])
