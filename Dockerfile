# syntax=docker/dockerfile:1
# vigil container image: `docker build -t vigil:0.1.0 .` at the project root.
#
# Two stages on Debian 12:
#   build    the dev packages of scripts/deps/*.txt (only -dev libraries and build tools, no
#            test components), a Release build of the `vigil` target (and `vigil-cri`, the
#            containerd checker's gRPC helper, which `vigil` depends on), stripped; then the
#            list of Debian packages that own the shared libraries they link (ldd + dpkg -S).
#   runtime  debian:12-slim plus exactly those packages, ca-certificates (TLS to the API
#            server, etcd and https checks) and libsystemd0 (dlopen'ed by the systemd
#            checker); no compiler, no -dev package, no shell tools beyond the base image's
#            (the exec checker's scripts run with /bin/sh).
#
# User: the image runs as the unprivileged user vigil (uid/gid 65532) by default, which is enough
# for `vigil status|members|history|keygen|check` and for an agent whose checkers need no
# privileged host access: ping uses unprivileged ICMP sockets where net.ipv4.ping_group_range
# allows gid 65532 (Docker sets it for containers; systemd >= 243 on hosts), http/tcp/dns/disk/
# kubelet/apiserver/etcd/time-drift/exec need nothing special, systemd needs only the D-Bus
# socket. The docker and containerd checkers need root (their sockets are root:root or
# root:docker 0660), as does a raw ICMP socket (CAP_NET_RAW) and a root-owned hostPath data
# directory: the Helm chart therefore runs the container as uid 0 with every capability dropped
# except NET_RAW, a read-only root filesystem and no privilege escalation (chart/values.yaml,
# securityContext).

ARG DEBIAN_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/deps/ /tmp/deps/
# Build tools and -dev libraries only: the lists also name test-only components (dockerd, etcd,
# containerd, prometheus, Go for the chart tests), which the image build does not need.
RUN set -eux; \
    pkgs=$(cat /tmp/deps/*.txt | sed 's/#.*//' | awk 'NF {print $1}' | sort -u \
      | grep -E -e '-dev$' -e '^(build-essential|cmake|ninja-build|pkg-config|protobuf-compiler|protobuf-compiler-grpc)$' \
      | grep -v -E -e '^golang-' -e '^libclang-rt-'); \
    apt-get update; \
    apt-get install -y --no-install-recommends $pkgs; \
    rm -rf /var/lib/apt/lists/*
COPY . .
RUN set -eux; \
    cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release; \
    cmake --build /tmp/build --target vigil -j"$(nproc)"; \
    mkdir -p /out; \
    strip -o /out/vigil /tmp/build/agent/vigil; \
    strip -o /out/vigil-cri /tmp/build/agent/vigil-cri; \
    /out/vigil version; \
    for lib in $(ldd /out/vigil /out/vigil-cri | awk '$3 ~ /^\// {print $3}' | sort -u); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null \
        || dpkg -S "/usr$lib" 2>/dev/null || { echo "no package owns $lib" >&2; exit 1; }; \
    done | cut -d: -f1 | sort -u >/out/runtime-packages.txt; \
    cat /out/runtime-packages.txt

FROM ${RUNTIME_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates libsystemd0 \
      $(cat /tmp/runtime-packages.txt); \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
      /tmp/runtime-packages.txt; \
    groupadd --system --gid 65532 vigil; \
    useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/vigil --no-create-home \
      --shell /usr/sbin/nologin vigil; \
    install -d -o 65532 -g 65532 -m 0750 /var/lib/vigil
COPY --from=build /out/vigil /usr/local/bin/vigil
COPY --from=build /out/vigil-cri /usr/local/bin/vigil-cri
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Peer-to-peer health mesh for Kubernetes nodes" \
      org.opencontainers.image.version="0.1.0"
USER 65532:65532
WORKDIR /var/lib/vigil
# Gossip (UDP and TCP) and HTTP (JSON API, /metrics, /healthz, /readyz, web page).
EXPOSE 7946/udp 7946/tcp 7947/tcp
# The agent leaves the mesh gracefully on SIGTERM (docker stop, pod deletion).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vigil"]
CMD ["agent"]
