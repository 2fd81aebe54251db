#!/usr/bin/env bash
# Builds the runtime image from binaries already built on this machine, so that a test does not
# compile the workspace a second time inside Docker:
#
#   deploy/image/build-prebuilt.sh target/release [mdm-server:latest]
#
# RUNTIME_IMAGE chooses the base (default debian:bookworm-slim). The legacy builder
# (DOCKER_BUILDKIT=0) works with every engine, Debian's included, which has no buildx. The binaries must link the
# same OpenSSL as the base has (Debian bookworm: libssl3); they are stripped on the way in.
set -euo pipefail
bin_dir=${1:?usage: build-prebuilt.sh BIN_DIR [TAG]}
tag=${2:-mdm-server:latest}
here=$(cd "$(dirname "$0")" && pwd)
binaries=(proxy enroll-svc command-svc push-svc admin-svc mdmctl mock-apns mdm-devsim)

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir "$context/bin"
for bin in "${binaries[@]}"; do
    [ -x "$bin_dir/$bin" ] || { echo "$bin_dir/$bin not found: build the binaries first" >&2; exit 1; }
    # Debug information is most of a debug build's size; the image needs none of it.
    strip --strip-debug -o "$context/bin/$bin" "$bin_dir/$bin"
done
cp "$here/runtime-setup.sh" "$context/"
previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
DOCKER_BUILDKIT=0 docker build --quiet \
    --build-arg "RUNTIME_IMAGE=${RUNTIME_IMAGE:-debian:bookworm-slim}" \
    -f "$here/prebuilt.Dockerfile" -t "$tag" "$context"
# The image this tag named before, unless still used, is no longer wanted: rebuilding every CI
# run would otherwise pile them up.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
fi
