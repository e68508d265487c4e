#!/usr/bin/python3
"""One mesh of one implementation (vigil or serf), measured; called by scripts/bench-serf.sh.

Runs inside a network namespace that the caller created with only loopback up, so every agent,
every client and the nft byte counters see nothing but this mesh. Agents bind 127.0.0.1 only.

Measures, and writes as JSON to --out-json:
  join      from spawning agents 1..N-1 (with a join to agent 0, which is already up) until every
            agent lists N members, all alive
  idle      after a settle time, over an idle window with no client polling at all:
            CPU s per agent per minute (/proc/PID/stat utime+stime), RSS (/proc/PID/status
            VmRSS at the end), and wire bytes per agent per s from nft counters on the gossip port
            range (IP-level bytes; on loopback every packet is counted once, at output)
  detect    per trial: a random agent (a different one each trial) is killed with SIGKILL; every
            survivor's member list is polled every --poll-interval s until it shows the victim
            failed (bounded by --detect-timeout); per-survivor times from the kill. Then the victim
            restarts under the same name and address and the mesh reconverges before the next trial.

Every process started is tracked by PID, killed by PID, and carries PR_SET_PDEATHSIG=SIGKILL.
"""
import argparse
import ctypes
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

import msgpack

CLK = os.sysconf("SC_CLK_TCK")
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _child_setup():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the driver
    os.setsid()


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def uss_kib(pid):
    """Unique set size: pages only this process maps (Private_Clean + Private_Dirty)."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def med(xs):
    return statistics.median(xs) if xs else None


def rnd(x, n=3):
    return None if x is None else round(x, n)


# ------------------------------------------------------------------ clients
class VigilClient:
    """GET /v1/members over one persistent HTTP/1.1 connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def _get(self, path):
        # Two attempts: the server drops idle keep-alive connections after 5 s, and a request
        # on such a stale connection fails once without saying anything about the agent.
        for _ in range(2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                return body if r.status == 200 else None
            except (OSError, http.client.HTTPException):
                self.close()
                if fresh:
                    return None
        return None

    def members(self):
        body = self._get("/v1/members")
        if body is None:
            return None
        return {m["name"]: m["status"] for m in json.loads(body)}

    def bytes_out(self):
        body = self._get("/metrics")
        if body is None:
            return None
        for line in body.decode().splitlines():
            if line.startswith("vigil_gossip_bytes_total{") and 'direction="out"' in line:
                return float(line.rsplit(" ", 1)[1])
        return None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class SerfClient:
    """serf's msgpack RPC ('members') over one persistent TCP connection."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.unpacker = None
        self.seq = 0

    def _connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.unpacker = msgpack.Unpacker(raw=False, unicode_errors="surrogateescape")
        self._call("handshake", {"Version": 1}, body=False)

    def _next(self):
        while True:
            for obj in self.unpacker:
                return obj
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("rpc closed")
            self.unpacker.feed(chunk)

    def _call(self, cmd, req=None, body=True):
        self.seq += 1
        out = msgpack.packb({"Command": cmd, "Seq": self.seq})
        if req is not None:
            out += msgpack.packb(req)
        self.sock.sendall(out)
        hdr = self._next()
        if hdr.get("Error"):
            raise RuntimeError("%s: %s" % (cmd, hdr["Error"]))
        return self._next() if body else None

    def members(self):
        try:
            if self.sock is None:
                self._connect()
            resp = self._call("members")
        except (OSError, ConnectionError, RuntimeError, ValueError):
            self.close()
            return None
        return {m["Name"]: m["Status"] for m in resp["Members"]}

    def bytes_out(self):
        return None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


# ------------------------------------------------------------------ implementations
class Impl:
    def __init__(self, a):
        self.a = a

    def name(self, i):
        return "n%d" % i

    def gossip_port(self, i):
        return self.a.gossip_base + i

    def api_port(self, i):
        return self.a.api_base + i


class Vigil(Impl):
    kind = "vigil"

    def argv(self, i, join_to):
        a = self.a
        cmd = [a.vigil, "agent", "--name", self.name(i),
               "--bind", "127.0.0.1:%d" % self.gossip_port(i),
               "--advertise", "127.0.0.1:%d" % self.gossip_port(i),
               "--http", "127.0.0.1:%d" % self.api_port(i),
               "--data-dir", os.path.join(a.workdir, "data-%d" % i),
               "--profile", "lan", "--log-level", "warn", "--config", a.vigil_config]
        if a.keyring:
            cmd += ["--keyring", a.keyring]
        if join_to is not None:
            cmd += ["--join", "127.0.0.1:%d" % self.gossip_port(join_to)]
        os.makedirs(os.path.join(a.workdir, "data-%d" % i), exist_ok=True)
        return cmd

    def client(self, i):
        return VigilClient(self.api_port(i))


class Serf(Impl):
    kind = "serf"

    def argv(self, i, join_to):
        a = self.a
        cmd = [a.serf, "agent", "-node=%s" % self.name(i),
               "-bind=127.0.0.1:%d" % self.gossip_port(i),
               "-advertise=127.0.0.1:%d" % self.gossip_port(i),
               "-rpc-addr=127.0.0.1:%d" % self.api_port(i),
               "-profile=lan", "-log-level=warn", "-config-file=%s" % a.serf_config]
        if a.key:
            cmd += ["-encrypt=%s" % a.key]
        if join_to is not None:
            cmd += ["-join=127.0.0.1:%d" % self.gossip_port(join_to)]
        return cmd

    def client(self, i):
        return SerfClient(self.api_port(i))


# ------------------------------------------------------------------ nft byte counters
class Nft:
    """Counter-only table (policy accept, no drops) on the output hook of this namespace."""

    TABLE = "meshbench"

    def __init__(self, lo, hi):
        rng = "%d-%d" % (lo, hi)
        rules = ("table inet %s {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
                 "  udp dport %s counter\n  tcp dport %s counter\n  tcp sport %s tcp dport != %s counter\n"
                 " }\n}\n") % (self.TABLE, rng, rng, rng, rng)
        r = subprocess.run(["nft", "-f", "-"], input=rules.encode(), capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("nft: " + r.stderr.decode().strip())

    def read(self):
        r = subprocess.run(["nft", "-j", "list", "table", "inet", self.TABLE], capture_output=True,
                           check=True)
        cs = []
        for item in json.loads(r.stdout)["nftables"]:
            rule = item.get("rule")
            if not rule:
                continue
            for e in rule["expr"]:
                if "counter" in e:
                    cs.append((e["counter"]["packets"], e["counter"]["bytes"]))
        return {"udp": cs[0], "tcp": (cs[1][0] + cs[2][0], cs[1][1] + cs[2][1])}

    def drop(self):
        subprocess.call(["nft", "delete", "table", "inet", self.TABLE], stderr=subprocess.DEVNULL)


# ------------------------------------------------------------------ the mesh
class Mesh:
    def __init__(self, impl, a):
        self.impl, self.a = impl, a
        self.procs, self.clients, self.logs = {}, {}, {}

    def start(self, i, join_to):
        log = open(os.path.join(self.a.workdir, "%s-%d.log" % (self.impl.kind, i)), "a")
        p = subprocess.Popen(self.impl.argv(i, join_to), stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, preexec_fn=_child_setup)
        log.close()
        self.procs[i] = p
        with open(self.a.pidfile, "a") as f:
            f.write("%d %s\n" % (p.pid, self.impl.kind))
        self.clients[i] = self.impl.client(i)
        return p

    def kill(self, i):
        """SIGKILL agent i; returns the monotonic instant of the kill."""
        p = self.procs.pop(i)
        self.clients.pop(i).close()
        t = time.monotonic()
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait()
        return t

    def check_alive(self):
        for i, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError("%s agent %d exited rc=%s (log %s/%s-%d.log)" % (
                    self.impl.kind, i, p.returncode, self.a.workdir, self.impl.kind, i))

    def converged(self, i, n):
        m = self.clients[i].members()
        return m is not None and len(m) == n and all(s == "alive" for s in m.values())

    def wait_converged(self, t0, timeout):
        """Per agent: seconds since t0 at which it first listed N alive members."""
        seen = {}
        while len(seen) < self.a.n and time.monotonic() - t0 < timeout:
            self.check_alive()
            for i in self.procs:
                if i not in seen and self.converged(i, self.a.n):
                    seen[i] = time.monotonic() - t0
            time.sleep(0.05)
        return seen

    def stop_all(self):
        for i in list(self.procs):
            self.kill(i)


def wait_up(mesh, i, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mesh.check_alive()
        if mesh.clients[i].members() is not None:
            return
        time.sleep(0.02)
    raise RuntimeError("agent %d did not come up" % i)


def measure_join(mesh, a):
    mesh.start(0, None)
    wait_up(mesh, 0)
    t0 = time.monotonic()
    for i in range(1, a.n):
        mesh.start(i, 0)
    spawn_s = time.monotonic() - t0
    seen = mesh.wait_converged(t0, a.converge_timeout)
    times = sorted(seen.values())
    return {"spawn_s": rnd(spawn_s), "converged_agents": len(seen),
            "all_s": rnd(times[-1]) if len(times) == a.n else None,
            "median_agent_s": rnd(med(times))}


def measure_idle(mesh, a, nft):
    time.sleep(a.settle)
    pids = [mesh.procs[i].pid for i in range(a.n)]
    vb0 = [mesh.clients[i].bytes_out() for i in range(a.n)]
    for c in mesh.clients.values():
        c.close()  # no open client connection during the window
    c0 = [cpu_s(p) for p in pids]
    n0 = nft.read()
    w0 = time.monotonic()
    time.sleep(a.idle)
    c1 = [cpu_s(p) for p in pids]
    n1 = nft.read()
    dt = time.monotonic() - w0
    mesh.check_alive()
    rss = [proc_status(p, "VmRSS") for p in pids]
    rss_anon = [proc_status(p, "RssAnon") for p in pids]
    rss_file = [proc_status(p, "RssFile") for p in pids]
    uss = [uss_kib(p) for p in pids]
    vb1 = [mesh.clients[i].bytes_out() for i in range(a.n)]
    cpm = [(y - x) / dt * 60 for x, y in zip(c0, c1)]
    udp_p, udp_b = (n1["udp"][k] - n0["udp"][k] for k in (0, 1))
    tcp_p, tcp_b = (n1["tcp"][k] - n0["tcp"][k] for k in (0, 1))
    per = dt * a.n
    out = {"window_s": rnd(dt, 1),
           "cpu_s_per_agent_per_min": {"mean": rnd(statistics.mean(cpm)), "median": rnd(med(cpm)),
                                       "max": rnd(max(cpm))},
           "rss_kib": {"mean": round(statistics.mean(rss)), "median": round(med(rss)),
                       "min": min(rss), "max": max(rss)},
           "rss_anon_kib_mean": round(statistics.mean(rss_anon)),
           "rss_file_kib_mean": round(statistics.mean(rss_file)),
           "uss_kib_mean": round(statistics.mean(uss)),
           "hwm_kib_max": max(proc_status(p, "VmHWM") for p in pids),
           "threads_agent0": proc_status(pids[0], "Threads"),
           "wire_per_agent_per_s": {
               "bytes_L3": rnd(udp_b / per + tcp_b / per, 1),
               "udp_bytes_L3": rnd(udp_b / per, 1), "udp_pkts": rnd(udp_p / per, 2),
               "udp_payload_bytes": rnd((udp_b - 28 * udp_p) / per, 1),
               "tcp_bytes_L3": rnd(tcp_b / per, 1), "tcp_pkts": rnd(tcp_p / per, 2),
               "note": "nft output counters on the gossip port range inside the mesh's own "
                       "namespace; bytes sent == bytes received per agent on loopback"}}
    if all(v is not None for v in vb0 + vb1):
        # vigil_gossip_bytes_total{direction="out"}: the agent's own count of bytes it sent
        # (UDP payloads and TCP frames, after encryption). Its window is slightly longer.
        out["self_reported_bytes_out_per_agent_per_s"] = rnd(
            (sum(vb1) - sum(vb0)) / per, 1)
    return out


def one_trial(mesh, a, rng, victim):
    n = a.n
    time.sleep(rng.uniform(0.5, 1.5))  # de-phase the kill against probe ticks
    survivors = [i for i in range(n) if i != victim]
    victim_name = mesh.impl.name(victim)
    mesh.check_alive()
    tk = mesh.kill(victim)
    det = {}
    next_round = tk
    while len(det) < len(survivors) and time.monotonic() - tk < a.detect_timeout:
        for i in survivors:
            if i in det:
                continue
            m = mesh.clients[i].members()
            if m is not None and m.get(victim_name) == "failed":
                det[i] = time.monotonic() - tk
        next_round += a.poll_interval
        time.sleep(max(0.0, next_round - time.monotonic()))
    times = sorted(det.values())
    res = {"victim": victim_name, "survivors": len(survivors), "detected_by": len(times),
           "first_s": rnd(times[0]) if times else None, "median_s": rnd(med(times)),
           "all_s": rnd(times[-1]) if len(times) == len(survivors) else None,
           "per_survivor_s": {mesh.impl.name(i): rnd(t) for i, t in sorted(det.items())}}
    # restart under the same name and address; rejoin through a survivor
    mesh.start(victim, 0 if victim != 0 else 1)
    t0 = time.monotonic()
    seen = mesh.wait_converged(t0, a.converge_timeout)
    res["reconverge_s"] = rnd(max(seen.values())) if len(seen) == n else None
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", choices=["vigil", "serf"], required=True)
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--idle", type=float, default=65.0, help="idle window, s (>= 60)")
    ap.add_argument("--settle", type=float, default=10.0, help="wait after convergence, s")
    ap.add_argument("--poll-interval", type=float, default=0.1)
    ap.add_argument("--detect-timeout", type=float, default=60.0)
    ap.add_argument("--converge-timeout", type=float, default=90.0)
    ap.add_argument("--gossip-base", type=int, default=20000)
    ap.add_argument("--api-base", type=int, default=21000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vigil", default="vigil")
    ap.add_argument("--vigil-config", help="vigil JSON config (gossip overrides)")
    ap.add_argument("--keyring", help="vigil keyring file")
    ap.add_argument("--serf", default="serf")
    ap.add_argument("--serf-config", help="serf JSON config file")
    ap.add_argument("--key", help="serf -encrypt key (base64)")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--out-json", required=True)
    a = ap.parse_args()
    if not 3 <= a.n <= 200 or a.trials > a.n:
        sys.exit("need 3 <= n <= 200 and trials <= n")
    os.makedirs(a.workdir, exist_ok=True)
    impl = Vigil(a) if a.impl == "vigil" else Serf(a)
    mesh = Mesh(impl, a)
    rng = random.Random(a.seed * 1000 + a.n)
    res = {"impl": a.impl, "N": a.n, "encrypted": bool(a.keyring if a.impl == "vigil" else a.key)}
    if a.impl == "serf":
        res["version"] = subprocess.run([a.serf, "version"], capture_output=True, text=True).stdout.split("\n")[0]
        deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "serf"], capture_output=True, text=True)
        if deb.returncode == 0:
            res["version"] += " (Debian package %s)" % deb.stdout.strip()
    else:
        res["version"] = subprocess.run([a.vigil, "version"], capture_output=True, text=True).stdout.strip()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    nft = Nft(a.gossip_base, a.gossip_base + a.n - 1)
    try:
        res["join"] = measure_join(mesh, a)
        print("%s n=%d join %s" % (a.impl, a.n, res["join"]), flush=True)
        if res["join"]["all_s"] is None:
            raise RuntimeError("mesh did not converge")
        res["idle"] = measure_idle(mesh, a, nft)
        print("%s n=%d idle %s" % (a.impl, a.n, json.dumps(res["idle"])), flush=True)
        victims = rng.sample(range(a.n), a.trials)
        trials = []
        for v in victims:
            t = one_trial(mesh, a, rng, v)
            trials.append(t)
            print("%s n=%d trial %s" % (a.impl, a.n, {k: v for k, v in t.items() if k != "per_survivor_s"}),
                  flush=True)
            if t["reconverge_s"] is None:
                res["error"] = "mesh did not reconverge after restarting %s" % t["victim"]
                break
        res["detect_trials"] = trials
        ok = [t for t in trials if t["all_s"] is not None]
        pooled = [x for t in trials for x in t["per_survivor_s"].values()]
        res["detect"] = {"trials": len(trials), "complete_trials": len(ok),
                         "median_first_s": rnd(med([t["first_s"] for t in trials if t["first_s"] is not None])),
                         "median_all_s": rnd(med([t["all_s"] for t in ok])),
                         "median_of_trial_medians_s": rnd(med([t["median_s"] for t in trials if t["median_s"] is not None])),
                         "pooled_median_s": rnd(med(pooled)),
                         "pooled_p90_s": rnd(sorted(pooled)[int(0.9 * (len(pooled) - 1))] if pooled else None)}
    except Exception as e:  # record, then clean up and exit non-zero
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        mesh.stop_all()
        nft.drop()
    with open(a.out_json, "w") as f:
        json.dump(res, f, indent=1)
    print("%s n=%d detect %s" % (a.impl, a.n, res.get("detect")), flush=True)
    if "error" in res:
        print("ERROR %s" % res["error"], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
