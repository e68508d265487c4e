#!/usr/bin/python3
"""One mesh of one implementation (vigil or serf), measured; called by scripts/bench-serf.sh
(--mode detect, the default) and scripts/bench-scale.sh (--mode scale).

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

--mode scale (scripts/bench-scale.sh) measures join and idle as above, with the idle window
sampled every --sample-every s (nft bytes and CPU per step: refresh storms show as a step far
above the window's mean), then instead of kill trials, --change-trials times "a change on one
node visible at every node" (each trial on a different agent, polled every --change-poll s,
bounded by --change-timeout):
  vigil     the agent's `flip` tcp checker is made to fail (its listener, held by this driver,
            is closed) until every agent's GET /v1/status lists that node's probe `flip` as
            failed; then the listener reopens and the time until every agent shows it running
            again is measured the same way.
  serf      a tag is set on the agent over RPC (what `serf tags -set` does) until every agent's
            RPC members list shows it; then it is deleted and the deletion timed the same way.
vigil's checkers come from --vigil-checkers (a JSON array; "@DATA@" and "@FLIP_PORT@" in its
strings become the agent's data directory and its flip listener's port), merged into a config
file per agent with the gossip section of --vigil-config.

Every process started is tracked by PID, killed by PID, and carries PR_SET_PDEATHSIG=SIGKILL.
"""
import argparse
import calendar
import ctypes
import http.client
import json
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
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

    def _get(self, path, ok=(200,)):
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
                return body if r.status in ok else None
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

    def probe_status(self, node, checker):
        """(status, since) of `node`'s probe `checker` in GET /v1/status (200 running or 503
        degraded), or None. Only that node's object is decoded: the document holds every node."""
        body = self._get("/v1/status", ok=(200, 503))
        if body is None:
            return None
        text = body.decode("utf-8", "replace")
        at = text.find('{"name":%s,"status":' % json.dumps(node))
        if at < 0:
            return None
        try:
            obj, _ = json.JSONDecoder().raw_decode(text, at)
        except ValueError:
            return None
        for p in obj.get("probes", []):
            if p.get("checker") == checker:
                return p.get("status"), p.get("since")
        return None

    def counter(self, name):
        """Sum of every sample of a metric family in /metrics, or None."""
        body = self._get("/metrics")
        if body is None:
            return None
        total, seen = 0.0, False
        for line in body.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                seen = True
        return total if seen else None

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

    def _members(self):
        """The agent's member list (RPC "members"), or None when it does not answer."""
        try:
            if self.sock is None:
                self._connect()
            return self._call("members")["Members"]
        except (OSError, ConnectionError, RuntimeError, ValueError):
            self.close()
            return None

    def members(self):
        members = self._members()
        return None if members is None else {m["Name"]: m["Status"] for m in members}

    def member_tag(self, node, key):
        """The value of tag `key` of `node` in this agent's member list ("" when absent), or
        None when the agent does not answer or does not list the node."""
        members = self._members()
        if members is None:
            return None
        for m in members:
            if m["Name"] == node:
                return (m.get("Tags") or {}).get(key, "")
        return None

    def set_tags(self, tags=None, delete=None):
        """RPC `tags`, what `serf tags -set k=v` / `-delete k` does."""
        if self.sock is None:
            self._connect()
        self._call("tags", {"Tags": tags or {}, "DeleteTags": delete or []}, body=False)

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
               "--profile", "lan", "--log-level", "warn", "--config", self.config_file(i)]
        if a.keyring:
            cmd += ["--keyring", a.keyring]
        if join_to is not None:
            cmd += ["--join", "127.0.0.1:%d" % self.gossip_port(join_to)]
        os.makedirs(os.path.join(a.workdir, "data-%d" % i), exist_ok=True)
        return cmd

    def client(self, i):
        return VigilClient(self.api_port(i))

    def config_file(self, i):
        """--vigil-config as it is, or with --vigil-checkers: one file per agent, the gossip
        section of --vigil-config plus the checkers with this agent's data dir and flip port."""
        a = self.a
        if not a.vigil_checkers:
            return a.vigil_config
        with open(a.vigil_config) as f:
            cfg = json.load(f)
        with open(a.vigil_checkers) as f:
            text = f.read()
        data = os.path.join(a.workdir, "data-%d" % i)
        text = text.replace("@DATA@", data).replace("@FLIP_PORT@", str(a.flip_base + i))
        cfg["checkers"] = json.loads(text)
        path = os.path.join(a.workdir, "vigil-%d.json" % i)
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        return path


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


# ------------------------------------------------------------------ flippable tcp checkers
class FlipListeners:
    """One listening socket per agent on 127.0.0.1:base+i, the target of that agent's `flip`
    tcp checker. A thread accepts and closes every connection (a backlog left full would fail
    the checker). set(i, False) closes agent i's listener (connect refused: the checker fails),
    set(i, True) opens it again. Only the thread touches the sockets."""

    def __init__(self, base, n):
        self.base, self.want, self.socks = base, {i: True for i in range(n)}, {}
        self.lock, self.stop = threading.Lock(), False
        self.sel = selectors.DefaultSelector()
        self.errors = []
        for i in range(n):
            self._open(i)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self, i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.base + i))
        s.listen(64)
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ, i)
        self.socks[i] = s

    def _close(self, i):
        s = self.socks.pop(i)
        self.sel.unregister(s)
        s.close()

    def set(self, i, up):
        with self.lock:
            self.want[i] = up

    def _run(self):
        while not self.stop:
            with self.lock:
                want = dict(self.want)
            for i, up in want.items():
                try:
                    if up and i not in self.socks:
                        self._open(i)
                    elif not up and i in self.socks:
                        self._close(i)
                except OSError as e:
                    self.errors.append("flip listener %d: %s" % (i, e))
            if not self.socks:
                time.sleep(0.05)
                continue
            for key, _ in self.sel.select(timeout=0.05):
                try:
                    c, _ = key.fileobj.accept()
                    c.close()
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for i in list(self.socks):
            self._close(i)


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


def idle_step(a, t, dt, n0, n1, c0, c1):
    """One sample step of the idle window: per agent per s (bytes, packets) and CPU s/min."""
    per = dt * a.n
    ub, tb = n1["udp"][1] - n0["udp"][1], n1["tcp"][1] - n0["tcp"][1]
    return {"t_s": rnd(t, 1), "dt_s": rnd(dt, 2),
            "bytes_per_agent_per_s": rnd((ub + tb) / per, 1),
            "udp_bytes_per_agent_per_s": rnd(ub / per, 1), "tcp_bytes_per_agent_per_s": rnd(tb / per, 1),
            "udp_pkts_per_agent_per_s": rnd((n1["udp"][0] - n0["udp"][0]) / per, 2),
            "tcp_pkts_per_agent_per_s": rnd((n1["tcp"][0] - n0["tcp"][0]) / per, 2),
            "cpu_s_per_agent_per_min": rnd(sum(y - x for x, y in zip(c0, c1)) / per * 60, 4)}


def measure_idle(mesh, a, nft):
    time.sleep(a.settle)
    pids = [mesh.procs[i].pid for i in range(a.n)]
    vb0 = [mesh.clients[i].bytes_out() for i in range(a.n)]
    # vigil, --mode scale: suspicions raised during the window (a false suspicion costs bytes)
    sus = a.mode == "scale" and hasattr(mesh.clients[0], "counter")
    sus0 = [mesh.clients[i].counter("vigil_suspicions_total") for i in range(a.n)] if sus else []
    for c in mesh.clients.values():
        c.close()  # no open client connection during the window
    c0 = [cpu_s(p) for p in pids]
    n0 = nft.read()
    w0 = time.monotonic()
    steps = []
    if a.sample_every > 0:
        # Counters (and CPU) every sample_every s on a fixed schedule, the last step ending
        # with the window: a refresh storm shows as a step far above the window's mean.
        prev_t, prev_n, prev_c, k = w0, n0, c0, 1
        while True:
            t_next = min(w0 + k * a.sample_every, w0 + a.idle)
            time.sleep(max(0.0, t_next - time.monotonic()))
            n1, c1 = nft.read(), [cpu_s(p) for p in pids]
            now = time.monotonic()
            steps.append(idle_step(a, now - w0, now - prev_t, prev_n, n1, prev_c, c1))
            prev_t, prev_n, prev_c = now, n1, c1
            if t_next >= w0 + a.idle:
                break
            k += 1
    else:
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
    if steps:
        full = [x for x in steps if x["dt_s"] >= 0.5 * a.sample_every] or steps
        big = max(full, key=lambda x: x["bytes_per_agent_per_s"])
        mean = out["wire_per_agent_per_s"]["bytes_L3"]
        out["steps"] = steps
        out["step_summary"] = {
            "every_s": a.sample_every, "count": len(steps),
            "max_bytes_per_agent_per_s": big["bytes_per_agent_per_s"], "max_at_s": big["t_s"],
            "min_bytes_per_agent_per_s": min(x["bytes_per_agent_per_s"] for x in full),
            "max_over_mean": rnd(big["bytes_per_agent_per_s"] / mean, 2) if mean else None,
            "max_cpu_s_per_agent_per_min": max(x["cpu_s_per_agent_per_min"] for x in full)}
    if sus:
        sus1 = [mesh.clients[i].counter("vigil_suspicions_total") for i in range(a.n)]
        if all(v is not None for v in sus0 + sus1):
            out["suspicions_during_window"] = round(sum(sus1) - sum(sus0))
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


def rfc3339_s(text):
    """'2026-12-04T13:53:08.267Z' -> seconds since the epoch."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + text[19:-1])


def wait_everywhere(mesh, a, t0, test):
    """Polls every agent that has not yet passed test(i), one round every a.change_poll s (or
    back to back when a round takes longer), until all have or a.change_timeout s after t0.
    Returns ({agent: seconds since t0}, number of rounds, mean round duration in s)."""
    seen, rounds, busy = {}, 0, 0.0
    next_round = time.monotonic()
    while len(seen) < a.n and time.monotonic() - t0 < a.change_timeout:
        r0 = time.monotonic()
        for i in range(a.n):
            if i not in seen and test(i):
                seen[i] = time.monotonic() - t0
        rounds += 1
        busy += time.monotonic() - r0
        next_round = max(next_round + a.change_poll, time.monotonic())
        time.sleep(max(0.0, next_round - time.monotonic()))
    return seen, rounds, busy / rounds if rounds else None


def spread(seen, a):
    times = sorted(seen.values())
    return {"visible_at": len(times), "first_s": rnd(times[0]) if times else None,
            "median_s": rnd(med(times)), "all_s": rnd(times[-1]) if len(times) == a.n else None}


def change_trial(mesh, a, flips, victim, k):
    """One "change on one node visible at every node" trial, then its undo, timed the same way."""
    name = mesh.impl.name(victim)
    c = mesh.clients
    res = {"node": name}
    if mesh.impl.kind == "vigil":
        state = lambda i: (c[i].probe_status(name, "flip") or (None, None))[0]  # noqa: E731
        before, _, _ = wait_everywhere(mesh, a, time.monotonic(), lambda i: state(i) == "running")
        if len(before) < a.n:
            res["error"] = "flip probe of %s not running everywhere before the trial" % name
            return res
        wall0 = time.time()
        t0 = time.monotonic()
        flips.set(victim, False)
        seen, rounds, round_s = wait_everywhere(mesh, a, t0, lambda i: state(i) == "failed")
        st = c[victim].probe_status(name, "flip")
        if st and st[0] == "failed" and st[1]:
            # the origin's own `since`: when its checker reported the failure (same wall clock)
            res["origin_failed_after_s"] = rnd(rfc3339_s(st[1]) - wall0)
        res["own_api_s"] = rnd(seen.get(victim))
        t1 = time.monotonic()
        flips.set(victim, True)
        back, _, _ = wait_everywhere(mesh, a, t1, lambda i: state(i) == "running")
    else:
        value = "t%d" % k
        tag = lambda i: c[i].member_tag(name, "bench")  # noqa: E731
        t0 = time.monotonic()
        c[victim].set_tags({"bench": value})
        seen, rounds, round_s = wait_everywhere(mesh, a, t0, lambda i: tag(i) == value)
        t1 = time.monotonic()
        c[victim].set_tags(delete=["bench"])
        back, _, _ = wait_everywhere(mesh, a, t1, lambda i: tag(i) == "")
    res.update(spread(seen, a))
    if res.get("origin_failed_after_s") is not None and res["all_s"] is not None:
        res["propagation_s"] = rnd(res["all_s"] - res["origin_failed_after_s"])
    res["poll_rounds"], res["poll_round_s"] = rounds, rnd(round_s)
    res["undo"] = spread(back, a)
    return res


def save_status(mesh, a):
    """Agent 0's GET /v1/status at the end, kept in the workdir (to audit the checkers); returns
    how many probes of each checker are in each status, over all nodes."""
    body = mesh.clients[0]._get("/v1/status", ok=(200, 503))
    if body is None:
        return None
    with open(os.path.join(a.workdir, "status-n0.json"), "wb") as f:
        f.write(body)
    counts = {}
    for node in json.loads(body).get("nodes", []):
        for p in node.get("probes", []):
            key = "%s %s" % (p.get("checker"), p.get("status"))
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def run_change_trials(mesh, a, rng, flips):
    victims = rng.sample(range(a.n), a.change_trials)
    trials = []
    for k, v in enumerate(victims):
        time.sleep(rng.uniform(0.5, 1.5))  # de-phase against probe and checker ticks
        mesh.check_alive()
        t = change_trial(mesh, a, flips, v, k)
        trials.append(t)
        print("%s n=%d change %s" % (a.impl, a.n, json.dumps(t)), flush=True)
    ok = [t for t in trials if t.get("all_s") is not None]
    out = {"what": ("tcp checker `flip` failing on one agent until every agent's /v1/status lists "
                    "it failed" if a.impl == "vigil" else
                    "tag set on one agent (RPC tags) until every agent's RPC members shows it"),
           "poll_s": a.change_poll, "timeout_s": a.change_timeout,
           "trials": len(trials), "complete_trials": len(ok),
           "median_all_s": rnd(med([t["all_s"] for t in ok])),
           "max_all_s": rnd(max(t["all_s"] for t in ok)) if ok else None,
           "median_first_s": rnd(med([t["first_s"] for t in trials if t.get("first_s") is not None])),
           "undo_median_all_s": rnd(med([t["undo"]["all_s"] for t in trials
                                         if t.get("undo", {}).get("all_s") is not None])),
           "mean_poll_round_s": rnd(statistics.mean([t["poll_round_s"] for t in trials
                                                      if t.get("poll_round_s")]) if ok else None)}
    if a.impl == "vigil":
        out["median_origin_failed_after_s"] = rnd(med([t["origin_failed_after_s"] for t in trials
                                                       if t.get("origin_failed_after_s") is not None]))
        out["median_propagation_s"] = rnd(med([t["propagation_s"] for t in trials
                                               if t.get("propagation_s") is not None]))
    return trials, out


def run_detect_trials(mesh, a, rng, res):
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
    ap.add_argument("--mode", choices=["detect", "scale"], default="detect",
                    help="detect: kill -9 trials (bench-serf.sh); scale: sampled idle window and "
                         "change-visible-everywhere trials (bench-scale.sh)")
    ap.add_argument("--sample-every", type=float, default=0.0,
                    help="sample nft counters and CPU every this many s of the idle window (0: no)")
    ap.add_argument("--change-trials", type=int, default=3)
    ap.add_argument("--change-poll", type=float, default=0.25)
    ap.add_argument("--change-timeout", type=float, default=60.0)
    ap.add_argument("--vigil-checkers", help="JSON array of checkers (@DATA@, @FLIP_PORT@ substituted)")
    ap.add_argument("--flip-base", type=int, default=22000, help="port of agent 0's flip listener")
    a = ap.parse_args()
    if not 3 <= a.n <= 200 or a.trials > a.n or a.change_trials > a.n:
        sys.exit("need 3 <= n <= 200 and trials, change trials <= n")
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
    flips = None
    try:
        if a.impl == "vigil" and a.vigil_checkers:
            flips = FlipListeners(a.flip_base, a.n)
        res["join"] = measure_join(mesh, a)
        print("%s n=%d join %s" % (a.impl, a.n, res["join"]), flush=True)
        if res["join"]["all_s"] is None:
            raise RuntimeError("mesh did not converge")
        res["idle"] = measure_idle(mesh, a, nft)
        print("%s n=%d idle %s" % (a.impl, a.n, json.dumps(
            {k: v for k, v in res["idle"].items() if k != "steps"})), flush=True)
        for st in res["idle"].get("steps", []):
            print("%s n=%d idle step %s" % (a.impl, a.n, json.dumps(st)), flush=True)
        if a.mode == "detect":
            run_detect_trials(mesh, a, rng, res)
        else:
            res["after_idle_all_alive_at"] = sum(mesh.converged(i, a.n) for i in range(a.n))
            if a.change_trials and a.impl == "vigil" and flips is None:
                raise RuntimeError("change trials need --vigil-checkers with a `flip` tcp checker")
            if a.change_trials:
                res["change_trials"], res["change"] = run_change_trials(mesh, a, rng, flips)
            if a.impl == "vigil":
                res["final_status"] = save_status(mesh, a)
            if flips is not None and flips.errors:
                res["error"] = "; ".join(flips.errors[:3])
    except Exception as e:  # record, then clean up and exit non-zero
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        mesh.stop_all()
        nft.drop()
        if flips is not None:
            flips.close()
    with open(a.out_json, "w") as f:
        json.dump(res, f, indent=1)
    if a.mode == "detect":
        print("%s n=%d detect %s" % (a.impl, a.n, res.get("detect")), flush=True)
    else:
        print("%s n=%d change %s" % (a.impl, a.n, res.get("change")), flush=True)
    if "error" in res:
        print("ERROR %s" % res["error"], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
