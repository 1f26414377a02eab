# syntax=docker/dockerfile:1
# ted: multi-stage build. The builder compiles a release binary with the Swift runtime linked in statically;
# the runtime image carries only the C libraries ted links against (libmongoc, libbson, sqlite3, libcurl for
# Foundation's URLSession used by `ted simulate`). The migrations are built into the binary: no migrations/ here.
#
#   docker build -t ted .
#   docker run --rm -p 8000:8000 -v ted-data:/app/data --env-file .env -e HOST=0.0.0.0 ted
#
# Package.swift declares swift-tools-version 6.2, so the builder needs Swift 6.2 or newer.
ARG SWIFT_VERSION=6.2

FROM swift:${SWIFT_VERSION}-bookworm AS builder
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends libmongoc-dev libbson-dev libsqlite3-dev zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Resolve dependencies first so that this layer is cached while only the sources change.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --product ted --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/ted" /out/ted

FROM debian:bookworm-slim AS runtime
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
        libmongoc-1.0-0 libbson-1.0-0 libsqlite3-0 zlib1g libcurl4 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home ted \
    && mkdir -p /app/data \
    && chown ted:ted /app/data
WORKDIR /app
COPY --from=builder /out/ted /usr/local/bin/ted
COPY .env.example ./.env.example
ENV HOST=0.0.0.0 \
    PORT=8000 \
    SQLITE_PATH=/app/data/ted.sqlite \
    ENV_FILE=/app/.env
USER ted
VOLUME ["/app/data"]
EXPOSE 8000
# SIGTERM (docker stop) stops accepting and flushes what is pending within SHUTDOWN_GRACE_SECONDS; give it time.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ted"]
CMD ["serve"]
