#!/usr/bin/env bash
# Starts a Docker engine for CI unless one already answers (so running it twice is harmless).
# overlay2 starts in ~2 s and copies nothing per layer; vfs (~4x slower) is only the fallback
# for a host where overlay2 cannot work, e.g. when /var/lib/docker is itself on overlayfs.
set -euo pipefail

log=/tmp/dockerd.log

if docker info >/dev/null 2>&1; then
    exit 0
fi

# Starts dockerd with storage driver $1 and waits for it. Returns 0 when ready, 1 when dockerd
# exited (the driver could not start), 2 when it still runs but did not answer within 60 s.
start() {
    echo "starting dockerd --storage-driver=$1 (log: $log)"
    # setsid: the engine must outlive this script and the CI step's process group.
    setsid dockerd --storage-driver="$1" >>"$log" 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 1 240); do
        docker info >/dev/null 2>&1 && { echo "dockerd ready (pid $pid, $1)"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.25
    done
    return 2
}

status=0
start overlay2 || status=$?
if [ "$status" = 1 ]; then
    echo "dockerd could not start with overlay2; trying vfs" >&2
    status=0
    start vfs || status=$?
fi
if [ "$status" != 0 ]; then
    echo "dockerd did not become ready; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
