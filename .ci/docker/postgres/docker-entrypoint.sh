#!/usr/bin/env bash
# What a compose file relies on from the official `postgres` image's entrypoint: on an empty
# $PGDATA, initdb with POSTGRES_USER / POSTGRES_PASSWORD[_FILE] / POSTGRES_DB and the
# /docker-entrypoint-initdb.d/*.sql and *.sh scripts; then the server in the foreground.
set -euo pipefail

# `docker run IMAGE -c opt=val` passes server options; any other command (psql, pg_isready,
# bash) runs as it is.
if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

# As root: read the password file (it may be readable by its owner only, as the official image
# reads it as root too), own the data directory (a fresh volume or bind mount may be root's),
# then run this script again as the postgres user.
if [ "$(id -u)" = 0 ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
        export POSTGRES_PASSWORD
        unset POSTGRES_PASSWORD_FILE
    fi
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    export HOME=/var/lib/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    # Exported, as the official image does, for the init scripts.
    export POSTGRES_USER=${POSTGRES_USER:-postgres}
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE")
    fi
    export POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-}
    export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
        echo "error: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
        exit 1
    fi

    # Trust on the local socket (init scripts, pg_isready, docker exec psql); a password for
    # every TCP connection, from any address.
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host="$auth"
    printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # A temporary server on a private unix socket only: nothing connects before init is done,
    # and pg_isready (a compose healthcheck) does not report ready in the meantime. PGHOST and
    # PGUSER point the init scripts' psql at it.
    PGHOST=$(mktemp -d)
    export PGHOST PGUSER=$POSTGRES_USER
    pg_ctl -w -o "-c listen_addresses='' -c unix_socket_directories='$PGHOST'" start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc)
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname=postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sql) echo "running $f"; "${psql[@]}" --dbname="$POSTGRES_DB" -f "$f" ;;
            *.sh) echo "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
            *) echo "ignoring $f" ;;
        esac
    done
    pg_ctl -w -m fast stop
    rmdir "$PGHOST"
    unset PGHOST PGUSER
    echo "PostgreSQL init done"
fi

# PID 1 is the server itself, so docker's stop signal reaches it.
exec "$@"
