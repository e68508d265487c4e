#!/usr/bin/python3
"""Turns the rendered DaemonSet into a local `vigil agent` command line (one argument per line).

  agent_args.py MANIFEST DIR NAME GOSSIP_PORT HTTP_PORT JOIN

Keeps the chart's own arguments and replaces only what must be local: addresses become
127.0.0.1 ports, paths point into DIR, the downward-API variables get values. Writes the
ConfigMap's config.json (with checker targets made hermetic: sockets and disk paths under DIR,
DNS asked of a closed loopback port, so no query leaves the machine) and the Secret's keyring.
Fails on any argument it does not know how to localize, or a $(VAR) left unreplaced.
"""

import base64
import json
import os
import sys

import yaml

manifest, work, name, gossip, http, join = sys.argv[1:7]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
container = ds["spec"]["template"]["spec"]["containers"][0]
cm = next(d for d in docs if d["kind"] == "ConfigMap" and "config.json" in d.get("data", {}))
secret = next(d for d in docs if d["kind"] == "Secret")

config = json.loads(cm["data"]["config.json"])
for ch in config.get("checkers", []):
    t = ch["type"]
    if t in ("containerd", "docker"):
        ch["socket"] = os.path.join(work, f"{t}.sock")
    elif t == "disk":
        ch["paths"] = [work]
    elif t == "dns":
        ch["server"] = "127.0.0.1:9"
    elif t == "ping":
        if ch.get("targets"):
            sys.exit("ping targets would leave the machine")
    elif t not in ("kubelet", "time-drift"):
        sys.exit(f"checker type {t}: no hermetic rewrite known; add one")
with open(os.path.join(work, "config.json"), "w") as f:
    json.dump(config, f)
keyring = base64.b64decode(next(iter(secret["data"].values())))
with open(os.path.join(work, "keyring.json"), "wb") as f:
    f.write(keyring)

env = {"NODE_NAME": name, "POD_IP": "127.0.0.1", "HOST_IP": "127.0.0.1", "POD_NAMESPACE": "vigil"}
local = {
    "--config": os.path.join(work, "config.json"),
    "--name": name,
    "--bind": f"127.0.0.1:{gossip}",
    "--advertise": f"127.0.0.1:{gossip}",
    "--http": f"127.0.0.1:{http}",
    "--data-dir": os.path.join(work, name),
    "--keyring": os.path.join(work, "keyring.json"),
}
out = []
for arg in container["args"]:
    flag, eq, value = arg.partition("=")
    if flag == "--join":
        if join:
            out.append(f"--join={join}")
        continue
    if flag in local:
        arg = f"{flag}={local[flag]}"
    for k, v in env.items():
        arg = arg.replace(f"$({k})", v)
    if "$(" in arg:
        sys.exit(f"unreplaced variable in {arg}")
    out.append(arg)
missing = set(local) - {a.partition("=")[0] for a in out}
if missing:
    sys.exit(f"the DaemonSet lacks {sorted(missing)}")
print("\n".join(out))
