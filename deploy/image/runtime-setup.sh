#!/bin/sh
# The runtime image's packages, user and state directory: run by both the multi-stage
# Dockerfile and deploy/image/prebuilt.Dockerfile, so that the two images are the same but for
# where the binaries were built.
set -eu
apt-get update
# libssl3: the binaries link OpenSSL; curl: the compose health checks.
apt-get install -y --no-install-recommends ca-certificates libssl3 curl
rm -rf /var/lib/apt/lists/* /var/cache/apt/*
useradd --system --uid 10001 --user-group --home-dir /var/lib/mdm --create-home mdm
# The stack's shared state (a named volume): an empty volume takes this directory's owner and
# mode when it is first mounted, so the services, which run as mdm, own it.
install -d -o mdm -g mdm -m 0700 /state
