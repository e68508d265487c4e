#!/usr/bin/python3
"""Checks the PromQL of the Grafana dashboard and of the alert rules.

  check_promql.py dashboard DASHBOARD.json METRICS.txt OUT_RULES.yaml
      The dashboard is valid JSON with the expected structure (node and zone variables, the
      panels the README promises); every query (panel targets and variable queries) becomes a
      recording rule in OUT_RULES.yaml, which the caller hands to `promtool check rules` (the
      parser of Prometheus itself), after Grafana's variables are replaced by plausible values.
      Every metric it names must be in METRICS.txt.
  check_promql.py rules RULES.yaml METRICS.txt
      Every alert expression names only metrics of METRICS.txt, and every alert has the
      summary, description and runbook annotations and a severity label. Runbook commands:
      kubectl on a namespaced object says -n, and `vigil check` gets the DaemonSet's --config.
  In both modes a label matcher (metric{label="..."}) may only name a label METRICS.txt lists
  for that metric, or a target label of the scrape (job, instance, observer, namespace, pod...):
  a matcher on a label the agent does not export silently matches nothing, or everything.

Exit 0 when clean, 1 with one line per problem.
"""

import json
import re
import sys

import yaml

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "atan2",
            # aggregation operators, which may be followed by a by/without clause before "("
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
            "bottomk", "topk", "quantile"}
GRAFANA_VARS = {
    "$__rate_interval": "5m", "${__rate_interval}": "5m", "$__interval": "1m",
    "${__interval}": "1m", "$__range": "1h", "${__range}": "1h",
}


# Labels Prometheus attaches to every scraped series (ServiceMonitor / examples/prometheus).
TARGET_LABELS = {"__name__", "job", "instance", "observer", "namespace", "pod", "service",
                 "endpoint", "container"}


def load_metrics(path):
    metrics = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, typ = line.split()[:2]
                metrics[name] = typ
    return metrics


def load_labels(path):
    """metric name -> the set of labels METRICS.txt gives it (its {a,b} column)."""
    labels = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                parts = line.split()
                if len(parts) >= 3 and parts[2].startswith("{") and parts[2].endswith("}"):
                    labels[parts[0]] = {x for x in parts[2][1:-1].split(",") if x}
    return labels


def matcher_problems(expr, labels):
    """Label matchers of `expr` on a label its metric does not have (per METRICS.txt)."""
    problems = []
    for m in re.finditer(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}', expr):
        name, inside = m.groups()
        have = labels.get(name)
        for suffix, extra in (("_bucket", {"le"}), ("_sum", set()), ("_count", set())):
            if have is None and name.endswith(suffix) and name[: -len(suffix)] in labels:
                have = labels[name[: -len(suffix)]] | extra
        if have is None:
            continue  # not in METRICS.txt: reported by the metric check
        for lm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"', inside):
            label = lm.group(1)
            if label not in have and label not in TARGET_LABELS:
                problems.append(f"{name}{{{label}{lm.group(2)}...}}: {name} has no label {label} "
                                f"(metrics.txt: {{{','.join(sorted(have))}}})")
    return problems


# kubectl verbs and objects that are cluster-scoped (no -n needed): nodes, and node debugging.
CLUSTER_SCOPED = re.compile(r"kubectl\s+(get\s+nodes?\b|describe\s+nodes?\b|cordon\b|uncordon\b|"
                            r"drain\b|top\s+nodes?\b|debug\s+node/)")


def runbook_problems(name, text, config_path):
    problems = []
    for line in text.splitlines():
        for cmd in re.findall(r"kubectl\s[^#]*", line):
            if CLUSTER_SCOPED.match(cmd):
                continue
            if not re.search(r"\s(-n|--namespace)[\s=]\S", cmd):
                problems.append(f"{name}: runbook kubectl without -n <namespace>: {cmd.strip()}")
        for cmd in re.findall(r"vigil\s+check\b[^#]*", line):
            if config_path and f"--config {config_path}" not in cmd and \
                    f"--config={config_path}" not in cmd:
                problems.append(f"{name}: runbook `vigil check` without the agent's "
                                f"--config {config_path}: {cmd.strip()}")
    return problems


def daemonset_config_path(rules_path):
    """The --config the chart's DaemonSet gives the agent (chart/templates/daemonset.yaml next
    to chart/files/alerts.yaml), or None when there is no chart there."""
    import os
    ds = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(rules_path))),
                      "templates", "daemonset.yaml")
    if not os.path.exists(ds):
        return None
    m = re.search(r"--config[= ](\S+)", open(ds).read())
    return m.group(1) if m else None


def allowed(name, metrics):
    if name in metrics:
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and metrics.get(base) in ("histogram", "any"):
            return True
    return False


def metric_names(expr):
    """Metric names a PromQL expression selects (a small lexer, not a parser: strings, label
    matchers, ranges and label lists of by/without/on/ignoring/group_* are removed first; what
    remains that is an identifier not followed by "(" is a metric name)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", s))
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1 ", s)
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def grafana_to_promql(expr):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    # Template variables ($node, ${zone}, ${node:regex}) only ever appear inside =~ matchers.
    return re.sub(r"\$\{?[a-zA-Z_][a-zA-Z0-9_]*(:[a-z]+)?\}?", ".*", expr)


def variable_expr(query):
    """The PromQL inside a Grafana Prometheus variable query."""
    q = query.get("query", "") if isinstance(query, dict) else query
    m = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*", q, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"\s*query_result\((.*)\)\s*", q, re.S)
    if m:
        return m.group(1)
    m = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*", q)
    if m:
        return None  # label_values(label): no metric
    return q


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def check_dashboard(path, metrics, out_rules, labels):
    problems = []
    with open(path) as f:
        try:
            dash = json.load(f)
        except ValueError as e:
            return [f"{path}: not JSON: {e}"]
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dash:
            problems.append(f"{path}: missing {key}")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    for need in ("datasource", "node", "zone"):
        if need not in variables:
            problems.append(f"{path}: template variable ${need} missing")
    exprs = []
    for name, v in variables.items():
        if v.get("type") == "query":
            e = variable_expr(v.get("query", ""))
            if e:
                exprs.append((f"variable ${name}", e))
    ids = set()
    types = set()
    for p in walk_panels(dash.get("panels", [])):
        if p.get("id") in ids:
            problems.append(f"{path}: duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        types.add(p.get("type"))
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            problems.append(f"panel {p.get('title')!r}: no queries")
        for t in p.get("targets", []):
            if not t.get("expr"):
                problems.append(f"panel {p.get('title')!r}: target {t.get('refId')} without expr")
                continue
            exprs.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
    for want in ("stat", "table", "state-timeline", "timeseries"):
        if want not in types:
            problems.append(f"{path}: no {want} panel")
    titles = " | ".join(p.get("title", "") for p in walk_panels(dash.get("panels", [])))
    for want in ("Cluster verdict", "Packet loss, node × node", "RTT p90, node × node",
                 "Probe states", "Suspicions", "Health awareness", "Gossip messages"):
        if want not in titles:
            problems.append(f"{path}: panel {want!r} missing")
    used_vars = {m for _, e in exprs for m in re.findall(r"\$\{?([a-zA-Z_]\w*)", e)}
    for name in ("node", "zone"):
        if name not in used_vars:
            problems.append(f"{path}: no query filters by ${name}")
    rules = []
    for i, (where, e) in enumerate(exprs):
        promql = grafana_to_promql(e)
        for name in metric_names(promql):
            if not allowed(name, metrics):
                problems.append(f"{where}: metric {name} is not in metrics.txt")
        problems += [f"{where}: {p}" for p in matcher_problems(promql, labels)]
        rules.append({"record": f"dashboard:query_{i}", "expr": promql,
                      "labels": {"where": where[:60]}})
    with open(out_rules, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f,
                       sort_keys=False, allow_unicode=True)
    print(f"{path}: {len(exprs)} queries, {len(problems)} problems")
    return problems


def check_rules(path, metrics, labels):
    problems = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    config_path = daemonset_config_path(path)
    if config_path is None:
        problems.append(f"{path}: no chart/templates/daemonset.yaml with the agent's --config")
    n = 0
    for g in doc["groups"]:
        for r in g["rules"]:
            n += 1
            name = r.get("alert") or r.get("record")
            for m in metric_names(r["expr"]):
                if not allowed(m, metrics):
                    problems.append(f"{name}: metric {m} is not in metrics.txt")
            problems += [f"{name}: {p}" for p in matcher_problems(r["expr"], labels)]
            if "alert" in r:
                ann = r.get("annotations", {})
                for key in ("summary", "description", "runbook"):
                    if not ann.get(key, "").strip():
                        problems.append(f"{name}: annotation {key} missing")
                if "Meaning:" not in ann.get("runbook", "") or "Check:" not in ann.get("runbook", ""):
                    problems.append(f"{name}: runbook must say Meaning: and Check:")
                problems += runbook_problems(name, ann.get("runbook", ""), config_path)
                if r.get("labels", {}).get("severity") not in ("critical", "warning"):
                    problems.append(f"{name}: severity label must be critical or warning")
    print(f"{path}: {n} rules, {len(problems)} problems")
    return problems


def main(argv):
    if len(argv) == 5 and argv[1] == "dashboard":
        problems = check_dashboard(argv[2], load_metrics(argv[3]), argv[4], load_labels(argv[3]))
    elif len(argv) == 4 and argv[1] == "rules":
        problems = check_rules(argv[2], load_metrics(argv[3]), load_labels(argv[3]))
    elif len(argv) == 2 and argv[1] == "selftest":
        problems = selftest()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


def selftest():
    """The lexer against known answers (so a broken lexer cannot pass everything)."""
    cases = {
        'sum by (source_node, le) (rate(vigil_peer_rtt_seconds_bucket{a="b",c=~"$x"}[5m]))':
            {"vigil_peer_rtt_seconds_bucket"},
        'count by (node) (kube_node_info) unless on (node) label_replace(max by (observer) '
        '(up{job="vigil"}), "node", "$1", "observer", "(.+)")': {"kube_node_info", "up"},
        "max(vigil_members_seen) - min(vigil_members_seen) > 0 or vector(0)": {"vigil_members_seen"},
        "avg by (node, checker) (vigil_probe_up{severity!=\"warning\"}) < 0.5 and on (node) "
        "avg by (node) (vigil_node_up) < 0.5": {"vigil_probe_up", "vigil_node_up"},
        "rate(foo_total[5m] offset 1h) / bar": {"foo_total", "bar"},
    }
    problems = []
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            problems.append(f"selftest: {expr!r}: got {sorted(got)}, want {sorted(want)}")
    metrics = {"h": "histogram", "c": "counter"}
    if not allowed("h_bucket", metrics) or allowed("c_bucket", metrics) or allowed("x", metrics):
        problems.append("selftest: allowed() is wrong about histogram suffixes")
    # Label matchers: a label the metric lacks is caught; its own, target labels and le pass.
    labels = {"vigil_probe_up": {"node", "checker"}, "h": {"zone"}}
    bad = matcher_problems('avg(vigil_probe_up{severity!="warning", node=~"a|}b"})', labels)
    good = matcher_problems('vigil_probe_up{node="a",observer="n1",job="vigil"} '
                            '+ h_bucket{le="0.1",zone="z"} + unknown{x="y"}', labels)
    if len(bad) != 1 or "severity" not in bad[0] or good:
        problems.append(f"selftest: matcher_problems wrong: {bad} / {good}")
    # Runbooks: namespaced kubectl needs -n; node commands do not; vigil check needs --config.
    rb = ("kubectl exec ds/vigil -- vigil status\nkubectl -n ns exec x -- vigil check --checker c\n"
          "kubectl get node n1 -o wide\nkubectl cordon n1\nkubectl --namespace=ns logs ds/vigil\n")
    got = runbook_problems("A", rb, "/etc/vigil/config.json")
    if len(got) != 2 or "exec ds/vigil" not in got[0] or "--config" not in got[1]:
        problems.append(f"selftest: runbook_problems wrong: {got}")
    print(f"selftest: {len(cases) + 2} cases, {len(problems)} problems")
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv))
