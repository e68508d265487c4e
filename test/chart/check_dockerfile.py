#!/usr/bin/python3
"""A lint of the project's Dockerfile and .dockerignore (no Docker engine or hadolint in CI).

  check_dockerfile.py PROJECT_ROOT

Parses the Dockerfile (continuations, comments, exec/shell forms) and checks what would break
the build or the image's contract:
- only known instructions; ARG defaults resolve every FROM; every stage is on Debian 12;
- COPY sources exist in the build context and are not excluded by .dockerignore; COPY --from
  names an earlier stage; .dockerignore keeps everything CMake needs;
- the builder's package filter (the shell pipeline over scripts/deps/*.txt, replayed here)
  keeps the libraries the build needs and drops the test-only components;
- every apt-get install uses --no-install-recommends and the same RUN removes the apt lists;
- the final stage: binary at /usr/local/bin/vigil, a numeric non-root USER, ENTRYPOINT
  ["vigil"] and CMD ["agent"] in exec form, the gossip and HTTP ports exposed.
Exit 0 when clean, 1 with one line per problem.
"""

import fnmatch
import glob
import json
import os
import re
import sys

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK",
                "SHELL", "MAINTAINER"}
# Packages the vigil build needs (CMake find_package / pkg_check_modules of the modules).
BUILD_NEEDS = {"build-essential", "cmake", "ninja-build", "pkg-config", "libasio-dev",
               "libmsgpack-cxx-dev", "libsqlite3-dev", "libcpp-httplib-dev", "nlohmann-json3-dev",
               "doctest-dev", "libcli11-dev", "libssl-dev", "libsystemd-dev", "libgrpc++-dev",
               "protobuf-compiler-grpc", "libprotobuf-dev"}
TEST_ONLY = {"docker.io", "containerd", "etcd-server", "prometheus", "golang-go", "dnsmasq-base",
             "python3-dbusmock", "clang", "libclang-rt-14-dev", "yamllint"}


def instructions(path):
    """[(line number, INSTRUCTION, argument text)] with continuations joined."""
    out = []
    buf, start = "", 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            stripped = line.strip()
            if not buf and (not stripped or stripped.startswith("#")):
                continue
            if buf and stripped.startswith("#"):
                continue  # comment lines inside a continuation are dropped by Docker too
            if not buf:
                start = n
            if stripped.endswith("\\"):
                buf += stripped[:-1] + " "
                continue
            buf += stripped
            word, _, rest = buf.partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    return out


def dockerignore(root):
    pats = []
    path = os.path.join(root, ".dockerignore")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    pats.append(os.path.normpath(line.lstrip("/")))
    return pats


def ignored(rel, pats):
    """Docker's rule: a path is excluded when it or one of its parents matches a pattern
    (last match wins; ! patterns re-include)."""
    parts = rel.split("/")
    result = False
    for p in pats:
        neg = p.startswith("!")
        pat = p[1:] if neg else p
        pat = pat.replace("**/", "*/") if pat.startswith("**/") else pat
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatchcase(prefix, pat) or (pat.startswith("*/") and
                                                    fnmatch.fnmatchcase(parts[i - 1], pat[2:])):
                result = not neg
                break
    return result


def replay_filter(root):
    """The builder stage's package selection, replayed (keep in step with the Dockerfile)."""
    pkgs = set()
    for path in glob.glob(os.path.join(root, "scripts", "deps", "*.txt")):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if line:
                    pkgs.add(line[0])
    keep = {p for p in pkgs if p.endswith("-dev") or p in
            {"build-essential", "cmake", "ninja-build", "pkg-config", "protobuf-compiler",
             "protobuf-compiler-grpc"}}
    return {p for p in keep if not p.startswith("golang-") and not p.startswith("libclang-rt-")}


def main(root):
    problems = []
    dockerfile = os.path.join(root, "Dockerfile")
    ins = instructions(dockerfile)
    pats = dockerignore(root)
    args = {}
    stages = []
    final = {}
    for n, word, rest in ins:
        where = f"Dockerfile:{n}"
        if word not in INSTRUCTIONS:
            problems.append(f"{where}: unknown instruction {word}")
            continue
        if word == "ARG":
            name, _, default = rest.partition("=")
            args.setdefault(name, default)
        elif word == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            image = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v.group(1), "?"), m.group(1))
            if not re.fullmatch(r"debian:12(-slim)?", image):
                problems.append(f"{where}: base image {image}, want debian:12 or debian:12-slim")
            stages.append(m.group(2))
            final = {"copies": [], "user": None, "entrypoint": None, "cmd": None, "expose": ""}
        elif word in ("COPY", "ADD"):
            opts = re.findall(r"--(\w+)=(\S+)", rest)
            paths = re.sub(r"--\w+=\S+\s*", "", rest).split()
            srcs, dst = paths[:-1], paths[-1]
            frm = dict(opts).get("from")
            if frm:
                if frm not in stages[:-1]:
                    problems.append(f"{where}: COPY --from={frm} names no earlier stage")
            else:
                for s in srcs:
                    rel = os.path.normpath(s).lstrip("/")
                    if rel == ".":
                        continue
                    if not os.path.exists(os.path.join(root, rel)):
                        problems.append(f"{where}: {s} does not exist in the build context")
                    elif ignored(rel, pats):
                        problems.append(f"{where}: {s} is excluded by .dockerignore")
            final["copies"].append((srcs, dst))
        elif word == "RUN" and "apt-get install" in rest:
            if "--no-install-recommends" not in rest:
                problems.append(f"{where}: apt-get install without --no-install-recommends")
            if "rm -rf /var/lib/apt/lists" not in rest:
                problems.append(f"{where}: apt lists not removed in the same RUN")
        elif word == "USER":
            final["user"] = rest
        elif word in ("ENTRYPOINT", "CMD"):
            try:
                final[word.lower()] = json.loads(rest)
            except ValueError:
                problems.append(f"{where}: {word} must be in exec (JSON) form")
        elif word == "EXPOSE":
            final["expose"] += " " + rest
    if len(stages) < 2:
        problems.append("Dockerfile: want a multi-stage build (builder and runtime)")
    if not any(dst == "/usr/local/bin/vigil" for _, dst in final.get("copies", [])):
        problems.append("final stage: the binary is not copied to /usr/local/bin/vigil")
    user = (final.get("user") or "0").split(":")[0]
    if not user.isdigit() or user == "0":
        problems.append(f"final stage: USER {final.get('user')}: want a numeric non-root uid "
                        "(Kubernetes runAsNonRoot can only verify numeric users)")
    if final.get("entrypoint") != ["vigil"] or final.get("cmd") != ["agent"]:
        problems.append(f"final stage: ENTRYPOINT {final.get('entrypoint')} CMD {final.get('cmd')}, "
                        'want ["vigil"] and ["agent"]')
    for port in ("7946/udp", "7946/tcp", "7947/tcp"):
        if port not in final.get("expose", ""):
            problems.append(f"final stage: EXPOSE {port} missing")
    for need in ("CMakeLists.txt", "agent/CMakeLists.txt", "gossip", "checkers", "store", "api",
                 "test/CMakeLists.txt", "scripts/deps/build.txt"):
        if ignored(need, pats):
            problems.append(f".dockerignore excludes {need}, which the build needs")
    for must in ("build-deploy/x", ".git/config"):
        if not ignored(must, pats):
            problems.append(f".dockerignore should exclude {must.split('/')[0]}")
    selected = replay_filter(root)
    with open(dockerfile) as f:
        text = f.read()
    if "grep -E -e '-dev$'" not in text or "'^golang-' -e '^libclang-rt-'" not in text:
        problems.append("Dockerfile: the package filter changed; update replay_filter() here")
    for p in sorted(BUILD_NEEDS - selected):
        problems.append(f"builder packages: {p} is needed to build but not selected "
                        "(list it in scripts/deps/)")
    for p in sorted(TEST_ONLY & selected):
        problems.append(f"builder packages: test-only {p} would be installed")
    for p in problems:
        print(p)
    print(f"Dockerfile: {len(ins)} instructions, {len(stages)} stages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
