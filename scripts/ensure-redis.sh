#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:${REDIS_PORT:-6379} (the queue tests use it): starts
# redis-server as a daemon (no persistence) when nothing answers, installing it with apt-get
# when it is missing and this machine allows that. Prints what it did; exit 1 when it cannot.
set -euo pipefail
port="${REDIS_PORT:-6379}"

answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]
  else
    # No client: send PING over bash's /dev/tcp.
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    local reply
    read -r -t 2 reply <&3 || true
    exec 3>&- 3<&-
    [[ "$reply" == "+PONG"* ]]
  fi
}

if answers; then exit 0; fi

if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "ensure-redis: installing redis-server with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; }
  else
    echo "ensure-redis: no Redis on 127.0.0.1:$port and no redis-server to start: install Redis 6.2+ (apt-get install redis-server)" >&2
    exit 1
  fi
fi

echo "ensure-redis: starting redis-server on 127.0.0.1:$port" >&2
redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
  --maxmemory-policy noeviction >/dev/null
for _ in $(seq 1 50); do
  if answers; then exit 0; fi
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on 127.0.0.1:$port" >&2
exit 1
