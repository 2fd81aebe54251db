# One image with every binary of the MDM server; compose picks the binary per service.
#
#   docker build -t mdm-server .
#
# The base images are build arguments (RUST_IMAGE, RUNTIME_IMAGE), for mirrors and for
# machines without a registry. deploy/image/build-prebuilt.sh makes the same runtime image
# from binaries already built on the host.
ARG RUST_IMAGE=rust:1.88-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# Build stage: the Rust toolchain plus what pingora and OpenSSL need to compile.
FROM ${RUST_IMAGE} AS build
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
      cp "target/release/$bin" /out/; \
    done

# Runtime stage: the binaries, the shared libraries they link, no compilers; runs as mdm.
FROM ${RUNTIME_IMAGE}
COPY deploy/image/runtime-setup.sh /tmp/runtime-setup.sh
RUN sh /tmp/runtime-setup.sh && rm /tmp/runtime-setup.sh
COPY --from=build /out/ /usr/local/bin/
USER mdm
WORKDIR /var/lib/mdm
# Each service is started by name, e.g. `enroll-svc`, `admin-svc`, `proxy`; `--check-config`
# validates.
CMD ["mdmctl", "--help"]
