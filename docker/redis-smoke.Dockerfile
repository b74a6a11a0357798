# Redis 7 for the LOCAL smoke run of the Kubernetes manifests only (deploy/overlays/smoke,
# `podman kube play`), tagged localhost/tanksim-redis:smoke by scripts/images.sh. No image
# registry is reachable on the machines that run it, so it is Debian bookworm's own
# redis-server package (7.0.x: streams, consumer groups, XAUTOCLAIM, XINFO GROUPS lag) on the
# debootstrapped debian:bookworm-slim. Real clusters run the pinned upstream image named in
# deploy/base/redis.yaml; this one is never pushed.
#
# Used like the upstream image: `redis-server [ARGS]` as the command (what the manifests set),
# data in /data (the working directory), numeric non-root user 65532. It keeps a shell and
# redis-cli on purpose: the manifests' readiness probe runs `sh -c "redis-cli ... ping"`.
FROM docker.io/library/debian:bookworm-slim

# Not version-pinned: bookworm only receives security fixes, and a pinned version vanishes
# from the mirror when the next one lands.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown 65532:65532 /data

LABEL org.opencontainers.image.title="tanksim-redis-smoke" \
      org.opencontainers.image.description="Debian bookworm's redis-server, for tanksim's local smoke run of its manifests only." \
      org.opencontainers.image.source="https://github.com/tanksim/tanksim" \
      org.opencontainers.image.licenses="BSD-3-Clause"

USER 65532:65532
WORKDIR /data
EXPOSE 6379
# Redis saves its data set and exits cleanly on SIGTERM.
STOPSIGNAL SIGTERM
# The upstream image's default: every address (Redis's own default bind) without protected
# mode, so a bare `podman run` is reachable; the smoke manifests pass their config instead.
CMD ["redis-server", "--protected-mode", "no"]
