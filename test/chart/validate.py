#!/usr/bin/python3
"""Validates a rendered chart (a `helm template`-style YAML stream) without a cluster.

1. Every object against its Kubernetes JSON schema (test/chart/schemas/, k8s 1.27 and the
   Prometheus Operator's CRDs), in strict mode: an unknown field is an error, as in kubeconform
   -strict (the upstream schemas allow any extra field, which would let a typo such as
   `readOnlyRootFilesytem` pass silently).
2. The chart's own contract (the invariants below): DaemonSet on every node, downward API env,
   join through the headless Service, ports, probes, only NET_RAW, read-only root, socket mounts
   exactly for the enabled checkers, keyring wiring, minimal RBAC, monitoring objects.
3. Expectations of one variant (--variant NAME), e.g. hostNetwork off or an existing Secret.

Exit 0 when clean; 1 with one line per problem. Uses only Debian's python3-yaml and
python3-jsonschema.
"""

import argparse
import base64
import json
import os
import re
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = {
    ("v1", "ConfigMap"): "configmap.json",
    ("v1", "Secret"): "secret.json",
    ("v1", "Service"): "service.json",
    ("v1", "ServiceAccount"): "serviceaccount.json",
    ("apps/v1", "DaemonSet"): "daemonset.json",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "clusterrole.json",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "clusterrolebinding.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json",
}
NAMESPACED = {"ConfigMap", "Secret", "Service", "ServiceAccount", "DaemonSet", "ServiceMonitor",
              "PrometheusRule"}
# Socket-using checker types -> the chart's default socket path.
SOCKET_DEFAULTS = {"docker": "/var/run/docker.sock",
                   "containerd": "/run/containerd/containerd.sock",
                   "systemd": "/run/dbus/system_bus_socket"}
QUANTITY = re.compile(r"^[+-]?(\d+|\d+\.\d*|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
BASE_KINDS = {"ServiceAccount", "Secret", "ConfigMap", "ClusterRole", "ClusterRoleBinding",
              "Service", "DaemonSet"}

# What each variant (test/chart/variants/<name>.yaml) must produce, beyond the invariants.
VARIANTS = {
    "default": dict(kinds=BASE_KINDS, host_network=True, socket_dirs={"/run/containerd"},
                    keyring="generated", priority="system-node-critical", checkers=6),
    "hostnetwork-off": dict(host_network=False, kinds=BASE_KINDS),
    "monitoring-on": dict(kinds=BASE_KINDS | {"ServiceMonitor", "PrometheusRule"},
                          dashboard=True, disabled_alerts={"VigilAgentMissing"},
                          rule_labels={"team": "platform"}),
    "no-monitoring": dict(kinds=BASE_KINDS, dashboard=False),
    "existing-secret": dict(kinds=BASE_KINDS - {"Secret"}, keyring="existing:my-vigil-keyring"),
    "encryption-off": dict(kinds=BASE_KINDS - {"Secret"}, keyring="off"),
    "all-checkers": dict(socket_dirs={"/run/containerd", "/var/run", "/run/dbus-alt"}, checkers=13),
    "no-rbac": dict(kinds={"Secret", "ConfigMap", "Service", "DaemonSet"}, service_account="default"),
    "upgrade": dict(keyring="kept:WyJBUUlEQkFVR0J3Z0pDZ3NNRFE0UEVCRVNFeFFWRmhjWUdSb2JIQjBlSHlBPSJd"),
    "examples": dict(kinds=BASE_KINDS - {"Secret"}, keyring="existing:vigil-keyring"),
    "api-security": dict(kinds=BASE_KINDS | {"ServiceMonitor"},
                         api_security=("vigil-api-token", "token", "vigil-api-tls")),
}


class Problems(list):
    def add(self, where, msg):
        self.append(f"{where}: {msg}")


def strict(node):
    """Forbids properties an object schema does not declare (kubeconform -strict)."""
    if isinstance(node, dict):
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)
    return node


def format_checker():
    fc = jsonschema.FormatChecker()

    @fc.checks("int32")
    def _int32(v):
        return not isinstance(v, int) or -2**31 <= v < 2**31

    @fc.checks("int64")
    def _int64(v):
        return not isinstance(v, int) or -2**63 <= v < 2**63

    @fc.checks("quantity")
    def _quantity(v):
        return not isinstance(v, str) or bool(QUANTITY.match(v))

    @fc.checks("byte")
    def _byte(v):
        if not isinstance(v, str):
            return True
        try:
            base64.b64decode(v, validate=True)
            return True
        except ValueError:
            return False

    return fc


def validate_schemas(docs, problems):
    cache = {}
    fc = format_checker()
    for where, obj in docs:
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key not in SCHEMAS:
            problems.add(where, f"no vendored schema for {key[0]} {key[1]}")
            continue
        if key not in cache:
            with open(os.path.join(HERE, "schemas", SCHEMAS[key])) as f:
                schema = strict(json.load(f))
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            cache[key] = cls(schema, format_checker=fc)
        for err in sorted(cache[key].iter_errors(obj), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in err.absolute_path)
            problems.add(where, f"schema: /{path}: {best_message(err)}")


def best_message(err):
    # A oneOf [ref, null] failure hides the useful error in its context.
    if err.context:
        deepest = max(err.context, key=lambda e: len(e.absolute_path))
        return deepest.message
    return err.message


def find(docs, kind):
    return [(w, o) for w, o in docs if o.get("kind") == kind]


def one(docs, kind, problems):
    found = find(docs, kind)
    if len(found) != 1:
        problems.add("stream", f"want exactly one {kind}, got {len(found)}")
        return None, None
    return found[0]


def arg_value(args, flag):
    vals = [a.split("=", 1)[1] for a in args if a.startswith(flag + "=")]
    return vals[0] if vals else None


def check_invariants(docs, problems, namespace):
    for where, obj in docs:
        md = obj.get("metadata") or {}
        if not md.get("name"):
            problems.add(where, "metadata.name missing")
        if obj.get("kind") in NAMESPACED and md.get("namespace") != namespace and \
                not (obj.get("kind") == "ConfigMap" and md.get("name", "").endswith("-dashboard")):
            problems.add(where, f"namespace {md.get('namespace')!r}, want {namespace!r}")
        if (md.get("labels") or {}).get("app.kubernetes.io/name") != "vigil":
            problems.add(where, "label app.kubernetes.io/name=vigil missing")

    where, ds = one(docs, "DaemonSet", problems)
    if ds is None:
        return {}
    pod = ds["spec"]["template"]["spec"]
    sel = ds["spec"]["selector"]["matchLabels"]
    plabels = ds["spec"]["template"]["metadata"]["labels"]
    if any(plabels.get(k) != v for k, v in sel.items()):
        problems.add(where, "selector does not match the pod template's labels")
    if {"operator": "Exists"} not in (pod.get("tolerations") or []):
        problems.add(where, "does not tolerate every taint (operator: Exists)")
    host_network = bool(pod.get("hostNetwork"))
    want_dns = "ClusterFirstWithHostNet" if host_network else "ClusterFirst"
    if pod.get("dnsPolicy") != want_dns:
        problems.add(where, f"dnsPolicy {pod.get('dnsPolicy')}, want {want_dns}")
    containers = pod["containers"]
    if len(containers) != 1:
        problems.add(where, f"want one container, got {len(containers)}")
    c = containers[0]
    args = c.get("args") or []
    if args[:1] != ["agent"]:
        problems.add(where, "first argument must be the `agent` command")

    env = {e["name"]: e for e in c.get("env") or []}
    for name, field in (("NODE_NAME", "spec.nodeName"), ("POD_IP", "status.podIP"),
                        ("HOST_IP", "status.hostIP")):
        got = ((env.get(name) or {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
        if got != field:
            problems.add(where, f"env {name} must come from {field}, got {got}")

    ports = {(p["name"], p["containerPort"], p.get("protocol", "TCP")) for p in c.get("ports") or []}
    gossip = int(arg_value(args, "--bind").rsplit(":", 1)[1])
    http = int(arg_value(args, "--http").rsplit(":", 1)[1])
    for want in (("gossip-udp", gossip, "UDP"), ("gossip-tcp", gossip, "TCP"), ("http", http, "TCP")):
        if want not in ports:
            problems.add(where, f"container port {want} missing")
    if arg_value(args, "--advertise") != f"$(POD_IP):{gossip}":
        problems.add(where, "--advertise must be $(POD_IP):<gossip port>")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        hg = (c.get(probe) or {}).get("httpGet") or {}
        if hg.get("path") != path or hg.get("port") not in ("http", http):
            problems.add(where, f"{probe} must GET {path} on the http port")

    sc = c.get("securityContext") or {}
    caps = sc.get("capabilities") or {}
    if caps.get("drop") != ["ALL"] or caps.get("add") != ["NET_RAW"]:
        problems.add(where, f"capabilities must be drop [ALL], add [NET_RAW]; got {caps}")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.add(where, "readOnlyRootFilesystem must be true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.add(where, "allowPrivilegeEscalation must be false")
    if sc.get("privileged"):
        problems.add(where, "must not be privileged")
    res = c.get("resources") or {}
    if not res.get("requests") or not res.get("limits"):
        problems.add(where, "resources must have requests and limits")

    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = {m["name"]: m for m in c.get("volumeMounts") or []}
    for name in mounts:
        if name not in volumes:
            problems.add(where, f"volumeMount {name} has no volume")
    for name in volumes:
        if name not in mounts:
            problems.add(where, f"volume {name} is not mounted")
    data_dir = arg_value(args, "--data-dir")
    data = [n for n, v in volumes.items() if (v.get("hostPath") or {}).get("path") == data_dir]
    if not data or mounts.get(data[0], {}).get("mountPath") != data_dir:
        problems.add(where, f"--data-dir {data_dir} must be a hostPath mounted at the same path")

    # The agent config: parses, and its checkers decide the socket mounts.
    config_path = arg_value(args, "--config")
    cfg_mount = [m for m in mounts.values() if m["mountPath"] == config_path]
    config = {}
    if not cfg_mount:
        problems.add(where, f"--config {config_path} is not mounted")
    else:
        cm_name = volumes[cfg_mount[0]["name"]]["configMap"]["name"]
        cms = [o for _, o in find(docs, "ConfigMap") if o["metadata"]["name"] == cm_name]
        if not cms:
            problems.add(where, f"ConfigMap {cm_name} (agent config) not rendered")
        else:
            key = cfg_mount[0].get("subPath", "config.json")
            try:
                config = json.loads(cms[0]["data"][key])
            except (KeyError, ValueError) as e:
                problems.add(f"ConfigMap {cm_name}", f"config {key} is not JSON: {e}")
    checkers = config.get("checkers", [])
    names = [ch.get("name") for ch in checkers]
    if len(set(names)) != len(names):
        problems.add("config.json", f"checker names not unique: {names}")
    for ch in checkers:
        if not ch.get("type") or not ch.get("name") or "enabled" in ch:
            problems.add("config.json", f"checker entry needs type and name, no `enabled`: {ch}")
    want_dirs = set()
    for ch in checkers:
        if ch.get("type") in SOCKET_DEFAULTS:
            sock = ch.get("socket") or SOCKET_DEFAULTS[ch["type"]]
            if ch["type"] == "systemd" and str(ch.get("bus", "")).startswith("unix:path="):
                sock = ch["bus"][len("unix:path="):].split(",")[0]
            want_dirs.add(os.path.dirname(sock))
    socket_dirs = set()
    for name, v in volumes.items():
        hp = (v.get("hostPath") or {}).get("path")
        if name.endswith("-socket"):
            socket_dirs.add(hp)
            if mounts.get(name, {}).get("readOnly") is not True:
                problems.add(where, f"socket mount {name} must be readOnly")
            if mounts.get(name, {}).get("mountPath") != hp:
                problems.add(where, f"socket mount {name} must be at the host path {hp}")
        elif hp and hp != data_dir and mounts.get(name, {}).get("readOnly") is not True:
            problems.add(where, f"unexpected writable hostPath {hp} ({name})")
    if socket_dirs != want_dirs:
        problems.add(where, f"socket mounts {sorted(socket_dirs)}, want {sorted(want_dirs)} "
                     "(exactly the enabled docker/containerd/systemd checkers)")

    # Join through the headless Service.
    swhere, svc = one(docs, "Service", problems)
    if svc is not None:
        spec = svc["spec"]
        if spec.get("clusterIP") != "None" or spec.get("publishNotReadyAddresses") is not True:
            problems.add(swhere, "must be headless (clusterIP None) with publishNotReadyAddresses")
        if any(plabels.get(k) != v for k, v in spec.get("selector", {}).items()):
            problems.add(swhere, "selector does not select the agent pods")
        cport_names = {p[0] for p in ports}
        for p in spec.get("ports", []):
            if p.get("targetPort") not in cport_names:
                problems.add(swhere, f"targetPort {p.get('targetPort')} is not a container port")
        want_join = f"{svc['metadata']['name']}.{namespace}.svc.cluster.local"
        if arg_value(args, "--join") != want_join:
            problems.add(where, f"--join {arg_value(args, '--join')}, want {want_join}")

    # Keyring.
    keyring_arg = arg_value(args, "--keyring")
    secret_name = None
    if keyring_arg:
        kdir, kfile = os.path.split(keyring_arg)
        km = [m for m in mounts.values() if m["mountPath"] == kdir]
        if not km or "secret" not in volumes[km[0]["name"]]:
            problems.add(where, f"--keyring {keyring_arg}: its directory is not a Secret volume")
        else:
            sv = volumes[km[0]["name"]]["secret"]
            secret_name = sv["secretName"]
            if km[0].get("readOnly") is not True:
                problems.add(where, "keyring mount must be readOnly")
            if [i["path"] for i in sv.get("items", [])] not in ([kfile], []):
                problems.add(where, f"keyring Secret volume does not provide {kfile}")
    for swhere, sec in find(docs, "Secret"):
        for k, v in (sec.get("data") or {}).items():
            try:
                keys = json.loads(base64.b64decode(v))
                ok = isinstance(keys, list) and keys and all(
                    len(base64.b64decode(x, validate=True)) == 32 for x in keys)
            except ValueError:
                ok = False
            if not ok:
                problems.add(swhere, f"{k} is not a JSON array of base64 32-byte keys")

    # RBAC: get on nodes, nothing else.
    for rwhere, role in find(docs, "ClusterRole"):
        if role.get("rules") != [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]:
            problems.add(rwhere, f"rules must be exactly get on nodes, got {role.get('rules')}")
    sa_name = pod.get("serviceAccountName")
    for bwhere, b in find(docs, "ClusterRoleBinding"):
        subj = b.get("subjects") or []
        if [(s.get("kind"), s.get("name"), s.get("namespace")) for s in subj] != \
                [("ServiceAccount", sa_name, namespace)]:
            problems.add(bwhere, f"must bind the pod's ServiceAccount {sa_name} only")
        roles = [o["metadata"]["name"] for _, o in find(docs, "ClusterRole")]
        if b["roleRef"]["name"] not in roles:
            problems.add(bwhere, "roleRef names no rendered ClusterRole")

    # Monitoring objects.
    for mwhere, sm in find(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        if svc is None or any(svc["metadata"]["labels"].get(k) != v for k, v in sel.items()):
            problems.add(mwhere, "selector does not select the Service")
        eps = sm["spec"]["endpoints"]
        svc_ports = {p["name"] for p in (svc or {}).get("spec", {}).get("ports", [])}
        for ep in eps:
            if ep.get("port") not in svc_ports:
                problems.add(mwhere, f"endpoint port {ep.get('port')} is not a Service port")
            targets = {r.get("targetLabel"): r for r in ep.get("relabelings", [])}
            if targets.get("job", {}).get("replacement") != "vigil" or \
                    targets.get("observer", {}).get("sourceLabels") != ["__meta_kubernetes_pod_node_name"]:
                problems.add(mwhere, "must relabel job=vigil and observer=<pod's node> (the alerts use them)")

    return dict(host_network=host_network, pod=pod, args=args, checkers=checkers,
                secret_name=secret_name, volumes=volumes)


def check_api_security(want, docs, facts, problems):
    """HTTP API token and TLS: absent unless asked; when asked, files of the named Secrets,
    probes over HTTPS, the ServiceMonitor scraping https with the token."""
    c = facts["pod"]["containers"][0]
    args = facts["args"]
    flags = ("--http-token-file", "--http-tls-cert", "--http-tls-key")
    if not want:
        for f in flags:
            if arg_value(args, f):
                problems.add("DaemonSet", f"{f} set, but the variant does not turn it on")
        return
    token_secret, token_key, tls_secret = want
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
    for flag, secret in zip(flags, (token_secret, tls_secret, tls_secret)):
        path = arg_value(args, flag) or ""
        d, f = os.path.split(path)
        v = (facts["volumes"].get(mounts.get(d, "")) or {}).get("secret") or {}
        if v.get("secretName") != secret or f not in [i["path"] for i in v.get("items", [])]:
            problems.add("DaemonSet", f"{flag}={path}: not a file of the Secret {secret}")
    for probe in ("livenessProbe", "readinessProbe"):
        if (c.get(probe) or {}).get("httpGet", {}).get("scheme") != "HTTPS":
            problems.add("DaemonSet", f"{probe} must use scheme HTTPS with TLS on")
    for _, sm in find(docs, "ServiceMonitor"):
        ep = sm["spec"]["endpoints"][0]
        if ep.get("scheme") != "https" or not ep.get("tlsConfig"):
            problems.add("ServiceMonitor", "must scrape https with a tlsConfig when TLS is on")
        if ep.get("bearerTokenSecret") != {"name": token_secret, "key": token_key}:
            problems.add("ServiceMonitor", f"bearerTokenSecret {ep.get('bearerTokenSecret')}")


def check_variant(name, docs, facts, problems, chart_dir):
    want = VARIANTS.get(name)
    if want is None:
        problems.add("variant", f"unknown variant {name}")
        return
    kinds = {o["kind"] for _, o in docs}
    if "kinds" in want and kinds != want["kinds"] | ({"ConfigMap"} if want.get("dashboard") else set()):
        problems.add("variant", f"kinds {sorted(kinds)}, want {sorted(want['kinds'])}")
    if not facts:
        return
    pod = facts["pod"]
    if "host_network" in want and facts["host_network"] != want["host_network"]:
        problems.add("DaemonSet", f"hostNetwork {facts['host_network']}, want {want['host_network']}")
    if "socket_dirs" in want:
        got = {(v.get("hostPath") or {}).get("path") for n, v in facts["volumes"].items()
               if n.endswith("-socket")}
        if got != want["socket_dirs"]:
            problems.add("DaemonSet", f"socket dirs {sorted(got)}, want {sorted(want['socket_dirs'])}")
    if "checkers" in want and len(facts["checkers"]) != want["checkers"]:
        problems.add("config.json", f"{len(facts['checkers'])} checkers, want {want['checkers']}")
    if "priority" in want and pod.get("priorityClassName") != want["priority"]:
        problems.add("DaemonSet", f"priorityClassName {pod.get('priorityClassName')}")
    if "service_account" in want and pod.get("serviceAccountName") != want["service_account"]:
        problems.add("DaemonSet", f"serviceAccountName {pod.get('serviceAccountName')}")
    check_api_security(want.get("api_security"), docs, facts, problems)
    kr = want.get("keyring")
    secrets = [o for _, o in find(docs, "Secret")]
    if kr == "off":
        if arg_value(facts["args"], "--keyring") or facts["secret_name"]:
            problems.add("DaemonSet", "encryption off but a keyring is wired")
    elif kr == "generated":
        if not secrets or facts["secret_name"] != secrets[0]["metadata"]["name"]:
            problems.add("DaemonSet", "keyring volume must use the generated Secret")
    elif kr and kr.startswith("existing:"):
        if facts["secret_name"] != kr.split(":", 1)[1]:
            problems.add("DaemonSet", f"keyring Secret {facts['secret_name']}, want {kr}")
    elif kr and kr.startswith("kept:"):
        data = list((secrets[0].get("data") or {}).values()) if secrets else []
        if data != [kr.split(":", 1)[1]]:
            problems.add("Secret", f"keyring not kept across the upgrade: {data}")
    if want.get("dashboard") is not None:
        dash = [o for _, o in find(docs, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")]
        if bool(dash) != want["dashboard"]:
            problems.add("variant", f"dashboard ConfigMap present={bool(dash)}, want {want['dashboard']}")
        for d in dash:
            if d["metadata"]["labels"].get("grafana_dashboard") != "1":
                problems.add("dashboard", 'label grafana_dashboard: "1" missing')
            with open(os.path.join(chart_dir, "files", "dashboard.json")) as f:
                if json.loads(d["data"]["vigil.json"]) != json.load(f):
                    problems.add("dashboard", "ConfigMap content differs from files/dashboard.json")
    if "disabled_alerts" in want:
        with open(os.path.join(chart_dir, "files", "alerts.yaml")) as f:
            all_alerts = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}
        for _, pr in find(docs, "PrometheusRule"):
            rules = [r for g in pr["spec"]["groups"] for r in g["rules"]]
            got = {r["alert"] for r in rules}
            if got != all_alerts - want["disabled_alerts"]:
                problems.add("PrometheusRule", f"alerts {sorted(got)}, want all but "
                             f"{sorted(want['disabled_alerts'])}")
            for r in rules:
                for k, v in want.get("rule_labels", {}).items():
                    if r.get("labels", {}).get(k) != v:
                        problems.add("PrometheusRule", f"{r['alert']}: label {k}={v} missing")
                if not r.get("labels", {}).get("severity"):
                    problems.add("PrometheusRule", f"{r['alert']}: severity label lost")
                if "kubectl " not in r.get("annotations", {}).get("runbook", ""):
                    problems.add("PrometheusRule", f"{r['alert']}: runbook lost or without a command")


def load(path):
    with open(path) as f:
        text = f.read()
    docs = []
    for i, doc in enumerate(yaml.safe_load_all(text)):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise SystemExit(f"{path}: document {i} is not a mapping")
        docs.append((f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}", doc))
    return docs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--variant")
    ap.add_argument("--namespace", default="vigil")
    ap.add_argument("--chart", default=os.path.join(HERE, "..", "..", "chart"))
    ap.add_argument("--schema-only", action="store_true")
    ap.add_argument("--write-rules", help="write the PrometheusRule's spec here (for promtool)")
    ap.add_argument("--write-config", help="write the agent's config.json here")
    a = ap.parse_args()
    docs = load(a.manifest)
    problems = Problems()
    if not docs:
        problems.add(a.manifest, "no objects")
    validate_schemas(docs, problems)
    if not a.schema_only:
        facts = check_invariants(docs, problems, a.namespace)
        if a.variant:
            check_variant(a.variant, docs, facts, problems, a.chart)
    if a.write_rules:
        rules = find(docs, "PrometheusRule")
        if len(rules) != 1:
            problems.add("stream", "--write-rules: want one PrometheusRule")
        else:
            with open(a.write_rules, "w") as f:
                yaml.safe_dump(rules[0][1]["spec"], f, sort_keys=False)
    if a.write_config:
        cms = [o for _, o in find(docs, "ConfigMap") if "config.json" in (o.get("data") or {})]
        if len(cms) != 1:
            problems.add("stream", "--write-config: want one ConfigMap with config.json")
        else:
            with open(a.write_config, "w") as f:
                f.write(cms[0]["data"]["config.json"])
    for p in problems:
        print(p)
    print(f"{a.manifest}: {len(docs)} objects, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
