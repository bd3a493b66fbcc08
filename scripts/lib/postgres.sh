# Sourced by scripts/with-postgres and scripts/production-like: a throwaway PostgreSQL cluster
# on 127.0.0.1 in a temporary folder. `postgres_start` sets PG_BIN, PG_PORT and PG_DATA;
# `postgres_stop` stops the cluster and removes its folder (call it from an EXIT trap).
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

as_db_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_start() {
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  if [ -z "${PG_BIN}" ] || [ ! -x "${PG_BIN}/initdb" ]; then
    echo "PostgreSQL server binaries not found: installing postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  PG_PORT=${PG_PORT:-$(free_port)}
  PG_DATA=$(mktemp -d /tmp/portail-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres "${PG_DATA}"; fi
  as_db_user "${PG_BIN}/initdb" -D "${PG_DATA}/data" -U portail --auth=trust -E UTF8 \
    --locale=C.UTF-8 >/dev/null
  as_db_user "${PG_BIN}/pg_ctl" -D "${PG_DATA}/data" -l "${PG_DATA}/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p ${PG_PORT} -k ${PG_DATA} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
}

postgres_createdb() {
  as_db_user "${PG_BIN}/createdb" -h 127.0.0.1 -p "${PG_PORT}" -U portail "$1"
  echo "postgresql://portail@127.0.0.1:${PG_PORT}/$1"
}

postgres_stop() {
  if [ -n "${PG_DATA:-}" ]; then
    as_db_user "${PG_BIN}/pg_ctl" -D "${PG_DATA}/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "${PG_DATA}"
  fi
}
