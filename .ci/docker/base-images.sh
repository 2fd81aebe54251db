#!/usr/bin/env bash
# Builds the images CI's containers start from, without any container registry: a Debian
# bookworm base made with debootstrap from the Debian mirror this host uses, and PostgreSQL 15
# from Debian's packages on top of it. The base, once made, is kept (`docker rmi` it to have it
# made again); the PostgreSQL image is rebuilt from the layer cache each time.
set -euo pipefail
cd "$(dirname "$0")"

base=mdm-ci/debian:bookworm
postgres=mdm-ci/postgres:15

exists() { docker image inspect "$1" >/dev/null 2>&1; }

# debootstrap mounts /proc and /sys inside its target and may leave them mounted when it
# fails: unmount them before deleting, and never let rm cross into another filesystem.
dir=
cleanup() {
    [ -n "$dir" ] || return 0
    { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

# The mirror this host's apt already reaches (whatever sources format it uses), unless
# DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR name others.
mirror_of() { apt-cache policy | awk -v s="$1/main" '$3 == s { print $2; exit }'; }

build_base() {
    local mirror security
    mirror=${DEBIAN_MIRROR:-$(mirror_of bookworm)}
    mirror=${mirror:-http://deb.debian.org/debian}
    security=${DEBIAN_SECURITY_MIRROR:-$(mirror_of bookworm-security)}
    echo "  mirror: $mirror${security:+, security: $security}"
    dir=$(mktemp -d /var/tmp/mdm-ci-rootfs.XXXXXX)
    local t0=$SECONDS
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >/tmp/debootstrap.log 2>&1 \
        || { tail -n 30 /tmp/debootstrap.log >&2; return 1; }
    echo "  debootstrap: $((SECONDS - t0)) s"

    # apt inside the image uses the same mirror as this host.
    {
        echo "deb $mirror bookworm main"
        echo "deb $mirror bookworm-updates main"
        [ -z "$security" ] || echo "deb $security bookworm-security main"
    } >"$dir/etc/apt/sources.list"
    # Like Debian's official images: no docs, man pages or translations from later installs
    # either, downloaded .debs are deleted after each install, and no service starts at
    # install time (there is no init in a container).
    cat >"$dir/etc/dpkg/dpkg.cfg.d/01-mdm-ci-nodoc" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
    cat >"$dir/etc/apt/apt.conf.d/01-mdm-ci-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Acquire::Languages "none";
CFG
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod +x "$dir/usr/sbin/policy-rc.d"

    # Trim what the installed packages brought: docs, man pages, translations (the C and
    # C.UTF-8 locales live in libc and /usr/lib/locale), apt lists and caches, logs. The
    # host's resolv.conf and hostname do not belong in an image (docker provides its own).
    (cd "$dir" && rm -rf usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/lintian \
        var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old var/cache/ldconfig/* \
        etc/resolv.conf etc/hostname \
        && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + \
        && find var/log -type f -delete)

    t0=$SECONDS
    tar --numeric-owner -C "$dir" -c . \
        | docker import --change 'CMD ["bash"]' - "$base" >/dev/null
    echo "  import: $((SECONDS - t0)) s"
    cleanup
    dir=
}

size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%d MB", $1 / 1e6 }'; }

if exists "$base"; then
    echo "$base: exists, kept"
else
    echo "$base: building"
    t0=$SECONDS
    build_base
    echo "$base: built in $((SECONDS - t0)) s, $(size "$base")"
fi
# Built every time: the layer cache makes an unchanged image instant, and a changed Dockerfile
# or entrypoint is used at once. The legacy builder: Debian's engine has no BuildKit/buildx.
t0=$SECONDS
DOCKER_BUILDKIT=0 docker build --build-arg BASE_IMAGE="$base" -t "$postgres" postgres \
    >/tmp/mdm-ci-postgres-build.log 2>&1 || { tail -n 30 /tmp/mdm-ci-postgres-build.log >&2; exit 1; }
echo "$postgres: built in $((SECONDS - t0)) s, $(size "$postgres")"
