#!/usr/bin/env bash
# docker-compose.yml for real, in a real Docker engine, as a user runs it:
#
#   .ci/docker/compose-stack.sh BIN_DIR
#
# starts dockerd, builds the base images from Debian packages (no registry is reachable here),
# builds the project's image from the binaries in BIN_DIR, and brings the stack up with the
# profile `sim` (deploy/sim.env) and two replicas of enroll-svc and command-svc. Then, through
# the ports published on 127.0.0.1 only: the simulated devices enroll (direct profile + SCEP
# through the proxy), a command queued through the admin API is answered by every device, and
# both replicas of each scaled service served. Taken down and up again, the stack keeps its
# enrollments, command history and certificates, and new devices enroll by OTA and answer;
# `down -v` removes it all. With KEEP_STACK=1 a failed run leaves the stack up to look at.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=$(cd "${1:?usage: compose-stack.sh BIN_DIR}" && pwd)
devices=5
started=$SECONDS
step() { echo "[$((SECONDS - started))s] $*"; }

"$repo/.ci/docker/start-dockerd.sh"
"$repo/.ci/docker/base-images.sh"
step "building the image from $bin_dir"
RUNTIME_IMAGE=mdm-ci/debian:bookworm "$repo/deploy/image/build-prebuilt.sh" "$bin_dir" mdm-server:ci

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
export MDM_IMAGE=mdm-server:ci POSTGRES_IMAGE=mdm-ci/postgres:15 SIM_DEVICES=$devices
export MDM_DEVICE_PORT=$(free_port) MDM_ENROLLMENT_PORT=$(free_port) MDM_ADMIN_PORT=$(free_port)
# Nothing to drain for: stopping the stack should not wait for the proxy's grace period.
export MDM_PROXY_SHUTDOWN_GRACE_SECS=0
project="mdm-ci-$$"
work=$(mktemp -d)
compose() {
    docker-compose --project-name "$project" --project-directory "$repo" \
        -f "$repo/docker-compose.yml" --env-file "$repo/deploy/sim.env" "$@"
}
finish() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- the stack's logs (last lines of each service)"
        compose logs --no-color --tail=40 || true
    fi
    if [ "$status" -ne 0 ] && [ -n "${KEEP_STACK:-}" ]; then
        echo "KEEP_STACK: left running as project $project (admin API on 127.0.0.1:$MDM_ADMIN_PORT, files in $work)"
        exit "$status"
    fi
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$status"
}
trap finish EXIT

# Polls `check` (a command) every second until it succeeds or `seconds` pass.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq 1 "$seconds"); do
        if "$@" >/dev/null 2>&1; then
            step "$what"
            return 0
        fi
        sleep 1
    done
    echo "timed out after ${seconds}s waiting for: $what" >&2
    return 1
}

step "compose up (profile sim, enroll-svc and command-svc scaled to 2)"
compose up -d --no-build --scale enroll-svc=2 --scale command-svc=2
step "containers started"
# The host reaches the stack through loopback only.
for published in "admin-svc 9443" "proxy $MDM_DEVICE_PORT" "proxy $MDM_ENROLLMENT_PORT"; do
    address=$(compose port $published)
    [[ "$address" == 127.0.0.1:* ]] || { echo "$published is published on $address" >&2; exit 1; }
done

# The admin token and the CA of the stack's certificate: read from the stack, as a user does.
compose exec -T admin-svc cat /state/admin-token >"$work/token"
compose exec -T admin-svc cat /state/pki/device-ca.pem >"$work/ca.pem"
api() {
    local path=$1
    shift
    curl -fsS --cacert "$work/ca.pem" -H "Authorization: Bearer $(cat "$work/token")" \
        "https://127.0.0.1:$MDM_ADMIN_PORT$path" "$@"
}
enrolled() {
    [ "$(api '/v1/devices?limit=1000&status=enrolled' | jq '.items | length')" -eq "$devices" ]
}
wait_for 180 "$devices devices enrolled through the proxy" enrolled
api '/v1/devices?limit=1000' | jq -r '.items[].enrollment_id' | sort >"$work/devices"

# A command to every device, queued through the admin API and answered.
# queue KEY FILE: DeviceInformation to the devices listed in FILE; answers its CommandUUID.
queue() {
    jq -Rn --arg key "$1" '{devices: [inputs], command: {request_type: "DeviceInformation"},
        idempotency_key: $key}' <"$2" |
        api /v1/commands -H 'Content-Type: application/json' --data-binary @- | jq -r .command_uuid
}
answered() {
    [ "$(api "/v1/commands/$1" | jq '.status_counts.acknowledged // 0')" -eq "$devices" ]
}
uuid=$(queue first "$work/devices")
wait_for 60 "every device answered DeviceInformation ($uuid)" answered "$uuid"

# Both replicas of each scaled service served requests.
for service in enroll-svc command-svc; do
    port=$([ "$service" = enroll-svc ] && echo 9101 || echo 9102)
    for index in 1 2; do
        served=$(compose exec -T --index="$index" "$service" curl -fsS "http://127.0.0.1:$port/metrics" |
            awk '/^mdm_grpc_requests_total/ && !/grpc.health/ { sum += $NF } END { print sum + 0 }')
        step "$service replica $index: $served gRPC requests"
        [ "${served%.*}" -gt 0 ] || { echo "$service replica $index served nothing" >&2; exit 1; }
    done
done

# Taken down (containers removed, volumes kept) and up again without the simulated devices: the
# same enrollments (each bound to the same certificate), the command history, the same
# certificates.
listing() { api '/v1/devices?limit=1000' | jq -r '.items[] | "\(.enrollment_id) \(.cert_sha256)"' | sort; }
listing >"$work/enrollments"
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$work/ca.pem"; }
before=$(fingerprint)
step "compose down (keeping the volumes)"
compose down
step "compose up again, without devsim"
compose up -d --no-build --scale enroll-svc=2 --scale command-svc=2 --scale devsim=0
# (Logs go to a file first: `grep -q` closing the pipe early would fail the pipeline.)
compose logs --no-color init >"$work/init.log"
grep -q "reusing the certificates and secrets" "$work/init.log" && ! grep -q "made in" "$work/init.log" ||
    { echo "the second start made new certificates or secrets" >&2; cat "$work/init.log" >&2; exit 1; }
compose exec -T admin-svc cat /state/pki/device-ca.pem >"$work/ca.pem"
[ "$(fingerprint)" = "$before" ] || { echo "the device CA changed" >&2; exit 1; }
kept() { listing | cmp -s - "$work/enrollments"; }
wait_for 60 "the enrollments were kept" kept
answered "$uuid" || { echo "the first command's results were lost" >&2; exit 1; }

# The simulator again: new devices (it makes new UDIDs and keys each run), which enroll through
# the restarted stack by OTA this time (Profile Service, SCEP twice) and answer.
SIM_ENROLL=ota compose up -d --no-build --scale enroll-svc=2 --scale command-svc=2
new_devices() {
    api '/v1/devices?limit=1000' | jq -r '.items[].enrollment_id' | sort | comm -13 "$work/devices" - \
        >"$work/new-devices"
    [ "$(wc -l <"$work/new-devices")" -eq "$devices" ]
}
wait_for 180 "$devices new devices enrolled by OTA" new_devices
uuid=$(queue second "$work/new-devices")
wait_for 120 "every device answered again ($uuid)" answered "$uuid"

step "compose down -v"
compose down -v --remove-orphans
if docker volume ls -q | grep -q "^${project}_"; then
    echo "volumes left behind" >&2
    exit 1
fi
step "the compose stack passed in $((SECONDS - started))s"
