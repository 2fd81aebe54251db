# One image with every binary of the MDM server; compose picks the binary per service.
#
#   docker build -t mdm-server .
#
# Build stage: the Rust toolchain plus what pingora and OpenSSL need to compile.
FROM rust:1.88-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Link the system OpenSSL rather than building a vendored copy.
ENV OPENSSL_NO_VENDOR=1
RUN cargo build --release --locked --bins \
 && mkdir /out \
 && for bin in proxy enroll-svc command-svc push-svc admin-svc mdmctl mock-apns mdm-devsim; do \
      if [ -f "target/release/$bin" ]; then cp "target/release/$bin" /out/; fi; \
    done

# Runtime stage: the binaries, the shared libraries they link, no compilers.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/mdm --create-home mdm
COPY --from=build /out/ /usr/local/bin/
USER mdm
WORKDIR /var/lib/mdm
# Each service is started by name, e.g. `enroll-svc`, `admin-svc`, `proxy`; `--check-config`
# validates.
CMD ["mdmctl", "--help"]
