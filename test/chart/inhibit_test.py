#!/usr/bin/python3
"""examples/alertmanager/alertmanager.yml's inhibit rules in a real Alertmanager.

  inhibit_test.py SRC WORK

Starts Debian's prometheus-alertmanager on 127.0.0.1 (no cluster port) with a copy of the
example config whose webhook receivers point at a closed loopback port (nothing leaves the
host), posts vigil alerts with the labels chart/files/alerts.yaml gives them (as
test/chart/alerts_test.yaml expects them), and checks which ones Alertmanager reports
inhibited: per node, never another node's. check_examples.py checks the same rules statically;
this is what Alertmanager itself does with them. Exit 77 (ctest: skipped) without Alertmanager.

The port comes from the test port range the way test/ports.cpp hands them out: an exclusive
flock on /tmp/vigil-test-ports/<first>.lock, held until this script exits, then a bind probe.
"""

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

# (name, labels, inhibited?) — labels as the rules produce them (alerts_test.yaml exp_labels).
CASES = [
    ("VigilNodeUnreachable", {"node": "n4", "destination_node": "n4", "severity": "critical"}, False),
    # n4 is unreachable: its own agent's scrape failure is explained, n2's is not.
    ("VigilAgentDown", {"node": "n4", "observer": "n4", "job": "vigil",
                        "instance": "10.0.0.4:7947", "severity": "warning"}, True),
    ("VigilAgentDown", {"node": "n2", "observer": "n2", "job": "vigil",
                        "instance": "10.0.0.2:7947", "severity": "warning"}, False),
    # Loss on the link to the unreachable n4 is part of it; n1 -> n2 is not.
    ("VigilPeerPacketLoss", {"source_node": "n1", "destination_node": "n4", "severity": "warning"}, True),
    ("VigilPeerPacketLoss", {"source_node": "n1", "destination_node": "n2", "severity": "warning"}, False),
    # n3 isolated: the links from it, and its own unreachability, are explained.
    ("VigilNodeIsolated", {"node": "n3", "source_node": "n3", "severity": "critical"}, False),
    ("VigilNodeUnreachable", {"node": "n3", "destination_node": "n3", "severity": "critical"}, True),
    ("VigilPeerPacketLoss", {"source_node": "n3", "destination_node": "n2", "severity": "warning"}, True),
    # n5 failed in the mesh: its agent is down too.
    ("VigilNodeDown", {"node": "n5", "severity": "critical"}, False),
    ("VigilAgentDown", {"node": "n5", "observer": "n5", "job": "vigil",
                        "instance": "10.0.0.5:7947", "severity": "warning"}, True),
    ("VigilCriticalProbeFailing", {"node": "n4", "checker": "etcd", "severity": "critical"}, False),
]


def bindable(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def reserve_ports(n):
    """n free ports of a locked block of 23000-27899 (test/ports.cpp); the lock stays held."""
    lockdir = "/tmp/vigil-test-ports"
    os.makedirs(lockdir, exist_ok=True)
    try:
        os.chmod(lockdir, 0o1777)
    except OSError:
        pass
    for k in range(49):
        first = 23000 + ((os.getpid() + k) % 49) * 100
        path = f"{lockdir}/{first}.lock"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        ports = [p for p in range(first, first + 100) if bindable(p)][:n]
        if len(ports) == n:
            return fd, ports
        os.close(fd)
    raise SystemExit("no free test port block in 23000-27899")


def http(url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"null")


def main(argv):
    src, work = argv[1], argv[2]
    if not os.access(ALERTMANAGER, os.X_OK):
        print(f"SKIP: {ALERTMANAGER} not installed (apt package prometheus-alertmanager)")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    _lock, (port, closed) = reserve_ports(2)
    with open(os.path.join(src, "examples", "alertmanager", "alertmanager.yml")) as f:
        cfg = yaml.safe_load(f)
    for r in cfg.get("receivers", []):
        for w in r.get("webhook_configs", []):
            w["url"] = f"http://127.0.0.1:{closed}/"  # nothing listens: no traffic leaves
    conf = os.path.join(work, "alertmanager.yml")
    with open(conf, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    log = open(os.path.join(work, "alertmanager.log"), "w")
    am = subprocess.Popen([ALERTMANAGER, f"--config.file={conf}",
                           f"--storage.path={work}/data",
                           f"--web.listen-address=127.0.0.1:{port}",
                           "--cluster.listen-address="],
                          stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1).read()
                break
            except OSError:
                if am.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            print("Alertmanager did not become ready")
            return 1
        if am.poll() is not None:
            print(open(os.path.join(work, "alertmanager.log")).read())
            print("Alertmanager exited")
            return 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        http(base + "/api/v2/alerts",
             [{"labels": dict(labels, alertname=name), "startsAt": now, "endsAt": later}
              for name, labels, _ in CASES])
        key = lambda labels: tuple(sorted(labels.items()))
        want = {key(dict(labels, alertname=name)): inhibited for name, labels, inhibited in CASES}
        problems = []
        for _ in range(50):  # the inhibitor sees source alerts as they arrive: allow a moment
            got = {key(a["labels"]): bool(a["status"]["inhibitedBy"])
                   for a in http(base + "/api/v2/alerts")}
            problems = []
            for k, inhibited in want.items():
                label_text = ",".join(f"{a}={b}" for a, b in k)
                if k not in got:
                    problems.append(f"alert missing from Alertmanager: {label_text}")
                elif got[k] != inhibited:
                    problems.append(f"{label_text}: inhibited={got[k]}, want {inhibited}")
            if not problems:
                break
            time.sleep(0.1)
        for p in problems:
            print(p)
        print(f"inhibitions: {len(CASES)} alerts, {len(problems)} problems")
        return 1 if problems else 0
    finally:
        am.terminate()
        try:
            am.wait(timeout=10)
        except subprocess.TimeoutExpired:
            am.kill()
            am.wait()
        log.close()


def run(argv):
    rc = main(argv)
    if rc == 0:
        shutil.rmtree(argv[2], ignore_errors=True)  # keep the config and log of a failure only
    return rc


if __name__ == "__main__":
    sys.exit(run(sys.argv))
