#!/usr/bin/env bash
# The chart, alert and dashboard tests (ctest label `chart`), without helm, npm or a cluster.
#
#   chart_test.sh RENDER SRC WORK variant NAME   render the chart with test/chart/variants/NAME.yaml,
#                                                yamllint it, validate every object (schemas +
#                                                invariants + the variant's expectations); for
#                                                variants with a PrometheusRule, promtool check rules
#   chart_test.sh RENDER SRC WORK alerts         promtool check rules + unit tests of the alerts
#   chart_test.sh RENDER SRC WORK dashboard      dashboard JSON and every query through promtool
#   chart_test.sh RENDER SRC WORK examples       examples/ current and valid (amtool, promtool)
#   chart_test.sh RENDER SRC WORK agents         two real agents from the chart's args/config/
#                                                keyring, scraped by real Prometheus (VIGIL_BIN)
#   chart_test.sh RENDER SRC WORK readme         chart/README.md lists every value
#   chart_test.sh RENDER SRC WORK dockerfile     lint of Dockerfile and .dockerignore
#   chart_test.sh RENDER SRC WORK selftest       the validators reject known-bad input
#
# RENDER is the Go renderer built from test/chart/render (empty when Go is missing), SRC the
# project root, WORK a scratch directory. Exit 77 (ctest: skipped) when a tool is missing.
set -euo pipefail
render=$1 src=$2 work=$3 mode=$4
name=${5:-}
py=/usr/bin/python3 # Debian's python3-yaml and python3-jsonschema, not a pyenv/venv python
here=$src/test/chart
chart=$src/chart
ns=vigil

# The agent config's checkers through the real checker registry (check_checker_config.cpp),
# when it was built (VIGIL_CONFIG_CHECK); otherwise said so, and the rest still runs.
check_checker_config() {
  if [ -n "${VIGIL_CONFIG_CHECK:-}" ] && [ -x "$VIGIL_CONFIG_CHECK" ]; then
    "$VIGIL_CONFIG_CHECK" "$@"
  else
    echo "NOTE: checker registry not built; checker config of $* not checked"
  fi
}

need() {
  for tool in "$@"; do
    if [ "$tool" = render ]; then
      [ -n "$render" ] && [ -x "$render" ] && continue
      echo "SKIP: the chart renderer was not built (golang-go and sprig missing; scripts/deps/chart.txt)"
      exit 77
    fi
    command -v "$tool" >/dev/null 2>&1 && continue
    echo "SKIP: $tool not installed (scripts/deps/chart.txt)"
    exit 77
  done
  "$py" -c 'import yaml, jsonschema' 2>/dev/null || {
    echo "SKIP: python3-yaml / python3-jsonschema not installed"; exit 77; }
}

dir=$work/$mode${name:+-$name}
rm -rf "$dir"
mkdir -p "$dir"

case $mode in
variant)
  need render yamllint promtool
  extra=()
  [ "$name" = upgrade ] && extra=(-lookup "$here/lookup-upgrade.yaml")
  "$render" -chart "$chart" -name vigil -namespace "$ns" -f "$here/variants/$name.yaml" \
    -api-versions monitoring.coreos.com/v1 "${extra[@]}" -o "$dir/manifest.yaml"
  "$render" -chart "$chart" -name vigil -namespace "$ns" -f "$here/variants/$name.yaml" \
    "${extra[@]}" -notes -o "$dir/NOTES.txt"
  grep -q "vigil status" "$dir/NOTES.txt" || { echo "NOTES.txt lacks the status command"; exit 1; }
  yamllint -f parsable -c "$here/yamllint.yaml" "$dir/manifest.yaml"
  rules=()
  grep -q '^kind: PrometheusRule' "$dir/manifest.yaml" && rules=(--write-rules "$dir/rules.yaml")
  "$py" "$here/validate.py" "$dir/manifest.yaml" --variant "$name" --namespace "$ns" \
    --chart "$chart" --write-config "$dir/config.json" "${rules[@]}"
  check_checker_config "$dir/config.json"
  if [ ${#rules[@]} -gt 0 ]; then
    promtool check rules "$dir/rules.yaml"
  fi
  ;;
alerts)
  need promtool yamllint
  yamllint -f parsable -c "$here/yamllint.yaml" "$chart/files/alerts.yaml" "$here/alerts_test.yaml"
  promtool check rules "$chart/files/alerts.yaml"
  "$py" "$here/check_promql.py" rules "$chart/files/alerts.yaml" "$here/metrics.txt"
  # promtool compares every annotation of a firing alert: keep summary (checked by the tests),
  # drop the long description and runbook (their templates were checked by `check rules`).
  "$py" - "$chart/files/alerts.yaml" "$dir/alerts.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for g in doc["groups"]:
    for r in g["rules"]:
        for k in ("description", "runbook"):
            r.get("annotations", {}).pop(k, None)
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False)
PY
  cp "$here/alerts_test.yaml" "$dir/"
  promtool test rules "$dir/alerts_test.yaml"
  ;;
dashboard)
  need promtool
  "$py" "$here/check_promql.py" dashboard "$chart/files/dashboard.json" "$here/metrics.txt" \
    "$dir/dashboard-queries.yaml"
  promtool check rules "$dir/dashboard-queries.yaml"
  ;;
examples)
  need render promtool amtool yamllint
  ex=$src/examples
  # The plain manifests are the chart rendered with examples/kubernetes/values.yaml.
  "$render" -chart "$chart" -name vigil -namespace "$ns" -f "$ex/kubernetes/values.yaml" \
    -o "$dir/vigil.yaml"
  { sed -n '1,/^---$/p' "$ex/kubernetes/vigil.yaml" | sed '$d'; cat "$dir/vigil.yaml"; } >"$dir/expected.yaml"
  if ! diff -u "$ex/kubernetes/vigil.yaml" "$dir/expected.yaml"; then
    echo "examples/kubernetes/vigil.yaml is stale: run scripts/render-examples.sh"
    exit 1
  fi
  yamllint -f parsable -c "$here/yamllint.yaml" "$ex/kubernetes/vigil.yaml"
  "$py" "$here/validate.py" "$ex/kubernetes/vigil.yaml" --variant examples --namespace "$ns" \
    --chart "$chart" --write-config "$dir/config.json"
  check_checker_config "$ex/vigil.json" "$dir/config.json"
  # The agent config, alert names in the Alertmanager routes, and a promtool-able copy of the
  # Prometheus config (Debian's promtool knows no kubernetes_sd_configs).
  "$py" "$here/check_examples.py" "$ex" "$chart" "$dir/prometheus.yml"
  cp "$chart/files/alerts.yaml" "$dir/vigil-alerts.yaml"
  promtool check config "$dir/prometheus.yml"
  amtool check-config "$ex/alertmanager/alertmanager.yml"
  ;;
selftest)
  need render promtool
  # 1. The validator rejects a DaemonSet with a typo'd field, an extra capability, a missing
  #    downward-API variable and a socket mount no checker asked for.
  "$render" -chart "$chart" -name vigil -namespace "$ns" -o "$dir/good.yaml"
  "$py" - "$dir/good.yaml" "$dir/bad.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    if d["kind"] == "DaemonSet":
        c = d["spec"]["template"]["spec"]["containers"][0]
        c["securityContext"]["readOnlyRootFilesytem"] = True           # typo: unknown field
        c["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")
        c["env"] = [e for e in c["env"] if e["name"] != "NODE_NAME"]
        c["volumeMounts"].append({"name": "docker-socket", "mountPath": "/var/run", "readOnly": True})
        d["spec"]["template"]["spec"]["volumes"].append(
            {"name": "docker-socket", "hostPath": {"path": "/var/run"}})
        c["ports"][0]["containerPort"] = "7946"                      # wrong type
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
  "$py" "$here/validate.py" "$dir/good.yaml" --variant default
  if "$py" "$here/validate.py" "$dir/bad.yaml" >"$dir/bad.out"; then
    cat "$dir/bad.out"; echo "validate.py accepted a broken DaemonSet"; exit 1
  fi
  for want in readOnlyRootFilesytem SYS_ADMIN NODE_NAME "socket mounts" containerPort; do
    grep -q "$want" "$dir/bad.out" || { cat "$dir/bad.out"; echo "validate.py missed: $want"; exit 1; }
  done
  # 2. The renderer fails like helm on a template error and on `required`.
  cp -r "$chart" "$dir/chart"
  if "$render" -chart "$dir/chart" -set image.repository= -o /dev/null 2>"$dir/required.err"; then
    echo "renderer ignored required"; exit 1
  fi
  grep -q "image.repository is required" "$dir/required.err"
  printf 'kind: ConfigMap\nmetadata:\n  name: x\n  bad: [\n' >"$dir/chart/templates/broken.yaml"
  if "$render" -chart "$dir/chart" -o /dev/null 2>"$dir/broken.err"; then
    echo "renderer accepted invalid YAML"; exit 1
  fi
  grep -q "YAML parse error" "$dir/broken.err"
  # 3. The PromQL lexer and promtool reject a dashboard with a bad query and an unknown metric.
  "$py" "$here/check_promql.py" selftest
  "$py" - "$chart/files/dashboard.json" "$dir/bad-dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"][1]["targets"][0]["expr"] = "sum(rate(vigil_no_such_metric_total[5m])"
json.dump(d, open(sys.argv[2], "w"))
PY
  if "$py" "$here/check_promql.py" dashboard "$dir/bad-dashboard.json" "$here/metrics.txt" \
      "$dir/bad-queries.yaml" >"$dir/bad-dashboard.out"; then
    echo "check_promql.py accepted an unknown metric"; exit 1
  fi
  grep -q vigil_no_such_metric_total "$dir/bad-dashboard.out"
  if promtool check rules "$dir/bad-queries.yaml" >/dev/null 2>&1; then
    echo "promtool accepted an unbalanced expression"; exit 1
  fi
  # 4. The Dockerfile lint rejects a named user, a missing --no-install-recommends and a COPY
  #    of a path .dockerignore excludes.
  mkdir -p "$dir/ctx/scripts"
  cp -r "$src/scripts/deps" "$dir/ctx/scripts/"
  cp "$src/.dockerignore" "$dir/ctx/"
  mkdir -p "$dir/ctx/examples" && touch "$dir/ctx/examples/x"
  sed -e 's/^USER 65532:65532/USER vigil/' -e 's/--no-install-recommends ca-certificates/ca-certificates/' \
    -e 's|^COPY \. \.|COPY examples/ /src/examples/|' "$src/Dockerfile" >"$dir/ctx/Dockerfile"
  if "$py" "$here/check_dockerfile.py" "$dir/ctx" >"$dir/docker.out"; then
    cat "$dir/docker.out"; echo "check_dockerfile.py accepted a broken Dockerfile"; exit 1
  fi
  for want in "USER vigil" "no-install-recommends" "excluded by .dockerignore"; do
    grep -q -- "$want" "$dir/docker.out" || { cat "$dir/docker.out"; echo "lint missed: $want"; exit 1; }
  done
  # 5. The checker registry rejects a checker key the checker does not know.
  if [ -n "${VIGIL_CONFIG_CHECK:-}" ] && [ -x "$VIGIL_CONFIG_CHECK" ]; then
    "$render" -chart "$chart" -set checkers.disk.warning_percent=80 -o "$dir/typo.yaml"
    "$py" "$here/validate.py" "$dir/typo.yaml" --schema-only --write-config "$dir/typo.json" >/dev/null
    if "$VIGIL_CONFIG_CHECK" "$dir/typo.json" >"$dir/typo.out"; then
      cat "$dir/typo.out"; echo "the checker registry accepted an unknown key"; exit 1
    fi
    grep -q warning_percent "$dir/typo.out" || { cat "$dir/typo.out"; exit 1; }
  else
    echo "NOTE: checker registry not built; its part of the selftest not run"
  fi
  echo "selftest: every broken input was rejected"
  ;;
agents)
  # The chart's output runs the real agent, and the example scrape config scrapes it:
  # two `vigil agent`s started with the DaemonSet's own arguments (addresses and paths made
  # local), the ConfigMap's config.json and the generated Secret's keyring, must join each
  # other; then a real Prometheus, with examples/prometheus/prometheus.yml's relabeling over
  # file_sd targets carrying the labels Kubernetes pod discovery would set, must scrape both
  # with job="vigil" and observer=<node>, drop the other targets, and load every alert rule.
  need render promtool curl
  vigil=${VIGIL_BIN:-}
  if [ -z "$vigil" ] || [ ! -x "$vigil" ]; then
    echo "SKIP: the vigil binary was not built"; exit 77
  fi
  command -v prometheus >/dev/null || { echo "SKIP: prometheus not installed"; exit 77; }
  "$render" -chart "$chart" -name vigil -namespace "$ns" -o "$dir/manifest.yaml"
  pids=()
  cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  }
  trap cleanup EXIT
  # Ports from a block of the test port range held for this script's lifetime, the protocol of
  # test/ports.cpp (which explains it): an exclusive flock on /tmp/vigil-test-ports/FIRST.lock,
  # so no other test process is handed these ports; each is probed free (UDP and TCP) first.
  # The lock's descriptor is closed for the children, so it dies with this script.
  lockdir=/tmp/vigil-test-ports
  mkdir -p "$lockdir" && chmod 1777 "$lockdir" 2>/dev/null || true
  first=
  for k in $(seq 0 48); do
    f=$((23000 + (($$ + k) % 49) * 100))
    [ -e "$lockdir/$f.lock" ] || { : >>"$lockdir/$f.lock" && chmod 666 "$lockdir/$f.lock"; } 2>/dev/null || true
    exec {portlock}<"$lockdir/$f.lock" || continue
    if flock -n "$portlock"; then first=$f; break; fi
    exec {portlock}<&-
  done
  [ -n "$first" ] || { echo "no free test port block in 23000-27899 ($lockdir)"; exit 1; }
  read -r g1 h1 g2 h2 prom <<<"$("$py" - "$first" <<'PY'
import socket, sys
first, ports = int(sys.argv[1]), []
for p in range(first, first + 100):
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", p))
    except OSError:
        continue
    ports.append(p)
    if len(ports) == 5:
        break
print(*ports)
PY
)"
  [ -n "$prom" ] || { echo "fewer than 5 free ports in $first-$((first + 99))"; exit 1; }
  "$py" "$here/agent_args.py" "$dir/manifest.yaml" "$dir" n1 "$g1" "$h1" "" >"$dir/n1.args"
  "$py" "$here/agent_args.py" "$dir/manifest.yaml" "$dir" n2 "$g2" "$h2" "127.0.0.1:$g1" >"$dir/n2.args"
  for n in n1 n2; do
    mapfile -t args <"$dir/$n.args"
    mkdir -p "$dir/$n"
    "$vigil" "${args[@]}" >"$dir/$n.log" 2>&1 {portlock}<&- &
    pids+=($!)
  done
  wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
    local limit=$1 what=$2; shift 2
    for _ in $(seq $((limit * 4))); do
      "$@" >/dev/null 2>&1 && return 0
      sleep 0.25
    done
    echo "timed out after ${limit}s waiting for: $what"
    tail -n 20 "$dir"/*.log
    return 1
  }
  alive2() { curl -sf "http://127.0.0.1:$1/metrics" | grep -q '^vigil_members{status="alive"} 2$'; }
  wait_for 30 "n1 sees 2 alive members" alive2 "$h1"
  wait_for 30 "n2 sees 2 alive members" alive2 "$h2"
  grep -q 'encrypted=true' "$dir/n1.log" || { echo "the agent did not use the chart's keyring"; cat "$dir/n1.log"; exit 1; }
  curl -sf "http://127.0.0.1:$h1/readyz" >/dev/null
  # Prometheus with the example's vigil job, discovery replaced by file_sd (Debian's Prometheus
  # has no Kubernetes discovery), every other setting kept but the intervals.
  "$py" "$here/prometheus_sd.py" "$src/examples/prometheus/prometheus.yml" "$dir" "$h1" "$h2"
  cp "$chart/files/alerts.yaml" "$dir/vigil-alerts.yaml"
  promtool check config "$dir/prometheus-test.yml"
  prometheus --config.file="$dir/prometheus-test.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address="127.0.0.1:$prom" >"$dir/prometheus.log" 2>&1 {portlock}<&- &
  pids+=($!)
  q() { curl -sfG "http://127.0.0.1:$prom/api/v1/$1" ${2:+--data-urlencode "$2"}; }
  targets_ok() { q targets | "$py" "$here/prometheus_sd.py" --check-targets; }
  wait_for 40 "Prometheus: 2 vigil targets up with job/observer labels" targets_ok
  members() { q query 'query=vigil_members{job="vigil",status="alive",observer="n2"} == 2' | grep -q '"observer":"n2"'; }
  wait_for 20 "vigil_members from observer n2" members
  rules_ok() { q rules | "$py" "$here/prometheus_sd.py" --check-rules "$chart/files/alerts.yaml"; }
  wait_for 20 "every alert rule loaded and evaluated" rules_ok
  q targets | "$py" "$here/prometheus_sd.py" --check-targets --verbose
  ;;
readme)
  # The chart README lists every value of values.yaml (leaves; each checker by name; whole
  # objects for resources and security contexts).
  "$py" - "$chart/values.yaml" "$chart/README.md" <<'PY'
import sys, yaml
values = yaml.safe_load(open(sys.argv[1]))
readme = open(sys.argv[2]).read()
whole = {"resources", "podSecurityContext", "securityContext", "updateStrategy",
         "monitoring.dashboard.labels"}
paths = []
def walk(d, prefix=""):
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v and p not in whole and not prefix.startswith("checkers"):
            if p == "checkers":
                paths.extend(f"checkers.{c}" for c in v)
            else:
                walk(v, p)
        else:
            paths.append(p)
walk(values)
missing = [p for p in paths if f"| `{p}` |" not in readme]
for p in missing:
    print(f"chart/README.md: value {p} is not in the values table")
print(f"chart/README.md: {len(paths)} values, {len(missing)} missing")
sys.exit(1 if missing else 0)
PY
  ;;
dockerfile)
  # No Docker engine in CI: a lint of the Dockerfile and .dockerignore (check_dockerfile.py).
  "$py" "$here/check_dockerfile.py" "$src"
  ;;
*)
  echo "unknown mode $mode" >&2
  exit 2
  ;;
esac
rm -rf "$dir"
