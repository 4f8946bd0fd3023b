# The HoloMUSH images. BuildKit is required (the ccache cache mount).
#
#   docker build --target holomush -t holomush .          core, gateway and the CLI
#   docker build --target operator -t holomush-operator .  the Kubernetes operator
#
# scripts/build-images does both, on machines without a registry too: it makes a local
# Debian bookworm base image and passes it as BASE_IMAGE. docs/design/containers.md says why
# each choice below was made.
ARG BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------
# builder: the release preset, with the same Debian -dev packages scripts/setup installs.
FROM ${BASE_IMAGE} AS builder
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ccache \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libpqxx-dev libpq-dev prometheus-cpp-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
      libboost-dev libboost-system-dev libcurl4-openssl-dev nlohmann-json3-dev libssl-dev \
      libsodium-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
ARG JOBS=
# The commit for `holomush --version` (the build context has no .git).
ARG REVISION=
# ccache lives in a cache mount, outside every layer: a rebuild after a small change
# recompiles only what changed even though `COPY . .` invalidated this layer.
RUN --mount=type=cache,id=holomush-ccache,target=/root/.cache/ccache \
    export CCACHE_DIR=/root/.cache/ccache CCACHE_BASEDIR=/src CCACHE_MAXSIZE=2G \
 && ccache --zero-stats >/dev/null \
 && cmake --preset release -DHOLOMUSH_BUILD_TESTS=OFF -DHOLOMUSH_GIT_COMMIT="${REVISION}" >/dev/null \
 && cmake --build --preset release --target holomush holomush-operator ${JOBS:+-j ${JOBS}} \
 && ccache --show-stats \
 && mkdir -p /out/bin /out/debug \
 && for b in holomush holomush-operator; do \
      objcopy --only-keep-debug build/release/cmd/$b /out/debug/$b.debug \
   && strip --strip-unneeded -o /out/bin/$b build/release/cmd/$b \
   && objcopy --add-gnu-debuglink=/out/debug/$b.debug /out/bin/$b; \
    done

# ---------------------------------------------------------------------------------------
# symbols: the debug information stripped from the shipped binaries, for crash analysis
# (`docker build --target symbols --output type=local,dest=symbols .`).
FROM scratch AS symbols
COPY --from=builder /out/debug/ /

# ---------------------------------------------------------------------------------------
# runtime-base: what both images share. Shared libraries only, no compilers or headers;
# the user is numeric so Kubernetes' runAsNonRoot can check it (the operator sets 10001).
FROM ${BASE_IMAGE} AS runtime-base
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libgrpc++1.51 libprometheus-cpp-core1.0 libyaml-cpp0.7 \
      libspdlog1.10 libfmt9 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 holomush \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin holomush

# ---------------------------------------------------------------------------------------
# operator: holomush-operator, ops HTTP on 8081.
FROM runtime-base AS operator
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/bin/holomush-operator /usr/local/bin/holomush-operator
# A shared library missing from the lists above fails the build here, not the pod later.
RUN if ldd /usr/local/bin/holomush-operator | grep 'not found'; then exit 1; fi
USER 10001:10001
EXPOSE 8081
ENTRYPOINT ["holomush-operator"]
# Labels come last in each final stage, not once in runtime-base: there a new revision would
# rebuild every layer after it (the package downloads included).
ARG BASE_IMAGE
ARG VERSION=
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="holomush-operator" \
      org.opencontainers.image.description="Kubernetes operator for HoloMUSH resources (holomush.io/v1alpha1)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# ---------------------------------------------------------------------------------------
# holomush: `holomush core`, `holomush gateway` and the CLI (migrate, status, certs,
# backup). The last stage, so a plain `docker build .` makes this one.
FROM runtime-base AS holomush
ARG DEBIAN_FRONTEND=noninteractive
# postgresql-client-15 for `holomush backup` (pg_dump, pg_restore). Its perl dependency
# (47 MB, a third of the image) serves only Debian's pg_wrapper scripts in /usr/bin; the
# real binaries in /usr/lib/postgresql/15/bin come first in PATH and need no perl. dpkg
# keeps the client recorded for scanners; apt in a derived image asks for --fix-broken,
# which brings perl back.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libprotobuf32 libpqxx-6.4 libsodium23 postgresql-client-15 \
 && dpkg --purge --force-depends perl libperl5.36 perl-modules-5.36 \
 && rm -rf /var/lib/apt/lists/* \
 && /usr/lib/postgresql/15/bin/pg_dump --version \
 && /usr/lib/postgresql/15/bin/pg_restore --version
COPY --from=builder /out/bin/holomush /usr/local/bin/holomush
RUN if ldd /usr/local/bin/holomush | grep 'not found'; then exit 1; fi
# The real pg_dump first in PATH, not Debian's perl wrapper that picks a cluster version;
# the TLS directory where the operator mounts its Secret (a --tls-dir flag still wins).
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOLOMUSH_TLS_DIR=/etc/holomush/tls
USER 10001:10001
WORKDIR /tmp
# core gRPC, core ops, telnet, web, gateway control, gateway ops
EXPOSE 9000 9100 4201 8080 9002 9101
ENTRYPOINT ["holomush"]
CMD ["--help"]
ARG BASE_IMAGE
ARG VERSION=
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="holomush" \
      org.opencontainers.image.description="HoloMUSH: a multi-user text world server (core, gateway, CLI)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
