/**
 * The shell scripts a node runs. Each is sent on stdin to `bash -s -- ARGS` with every argument
 * quoted, so no name, path or prompt is ever spliced into shell text; secrets never appear as
 * arguments (they travel in the 0600 worker.env, written over SFTP).
 */

/** Everything below the node's folder, as the scripts and the tool name it. */
export const REMOTE = {
  env: "worker.env",
  /** REDIS_URL alone: rewritten when the tunnel moves to another port. */
  redisEnv: "redis.env",
  supervisor: "supervise.sh",
  supervisorPid: "supervisor.pid",
  workerPid: "worker.pid",
  workerLog: "logs/worker.log",
  supervisorLog: "logs/supervisor.log",
  app: "app",
  cache: "cache",
} as const;

/** $1 folder (created, printed as an absolute path): resolves `~/deepconf`-style folders. */
export const PREPARE_DIR = `set -eu
mkdir -p -- "$1" "$1/logs" "$1/cache"
chmod 700 -- "$1"
cd -- "$1" && pwd -P
`;

/**
 * $1 folder, $2 wanted major version. Prints the bin folder of a Node.js of that major version
 * (ours under $1/node first, then the system's), or nothing.
 */
export const FIND_NODE = `set -u
for node in "$1/node/bin/node" "$(command -v node 2>/dev/null || true)"; do
  [ -n "$node" ] && [ -x "$node" ] || continue
  version=$("$node" --version 2>/dev/null) || continue
  major=\${version#v}; major=\${major%%.*}
  if [ "$major" = "$2" ]; then dirname -- "$node"; exit 0; fi
done
exit 0
`;

/**
 * $1 folder, $2 version (v20.20.2), $3 dist base URL. Installs the official Linux tarball for
 * this machine's architecture into $1/node after checking its SHA-256 against SHASUMS256.txt.
 */
export const INSTALL_NODE = `set -euo pipefail
dir=$1 version=$2 base=$3
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "no Node.js build for this architecture: $(uname -m)" >&2; exit 3 ;;
esac
name="node-$version-linux-$arch"
work="$dir/.node-download"
rm -rf -- "$work"; mkdir -p -- "$work"; cd -- "$work"
curl -fsSL --retry 3 -o "$name.tar.xz" "$base/$version/$name.tar.xz"
curl -fsSL --retry 3 -o SHASUMS256.txt "$base/$version/SHASUMS256.txt"
if ! grep " $name.tar.xz\\$" SHASUMS256.txt | sha256sum -c --status -; then
  echo "checksum mismatch for $name.tar.xz (against $base/$version/SHASUMS256.txt): not installed" >&2
  exit 4
fi
tar -xJf "$name.tar.xz"
rm -rf -- "$dir/node"; mv -- "$name" "$dir/node"
cd -- "$dir"; rm -rf -- "$work"
echo "$dir/node/bin"
`;

/**
 * $1 folder, $2 bundle hash, $3 Node bin folder, $4 "cuda" or "cpu". Unpacks the uploaded
 * bundle into app-HASH and installs runtime dependencies only (with the CUDA execution provider
 * for cuda), then points $1/app at it. A finished install is marked and reused.
 */
export const INSTALL_APP = `set -euo pipefail
dir=$1 hash=$2 bin=$3 device=$4
app="$dir/app-$hash"
export PATH="$bin:$PATH"
if [ ! -f "$app/.deepconf-installed" ]; then
  rm -rf -- "$app"; mkdir -p -- "$app"
  tar -xzf "$dir/bundle-$hash.tgz" -C "$app"
  cd -- "$app"
  # dist/ comes built: the build script needs development packages a node does not install.
  npm pkg delete scripts.prepare
  if [ "$device" = cuda ]; then export npm_config_onnxruntime_node_install=cuda12; fi
  start=$(date +%s)
  npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error
  # onnxruntime-node ships every platform's binaries (~220 MB of 290): keep this one's.
  ort=node_modules/onnxruntime-node/bin/napi-v6
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=none ;; esac
  if [ -d "$ort/linux/$arch" ]; then
    find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf -- {} +
    find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf -- {} +
  fi
  echo "install_seconds=$(( $(date +%s) - start ))"
  echo "node_modules_mib=$(du -sm node_modules | cut -f1)"
  touch .deepconf-installed
else
  echo "cached"
fi
rm -f -- "$dir/bundle-$hash.tgz"
ln -sfn -- "$app" "$dir/app.tmp" && mv -Tf -- "$dir/app.tmp" "$dir/app"
`;

/** $1 folder, $2 Node bin folder, then `deepconf` arguments: runs them with worker.env loaded. */
export const WITH_ENV = `set -euo pipefail
dir=$1 bin=$2; shift 2
cd -- "$dir"
set -a; . "./${REMOTE.env}"; [ -f "./${REMOTE.redisEnv}" ] && . "./${REMOTE.redisEnv}"; set +a
export PATH="$bin:$PATH"
exec node "$dir/${REMOTE.app}/bin/deepconf.js" "$@"
`;

/**
 * The supervisor (written to the node as supervise.sh). Arguments: Node bin folder, then the
 * worker's arguments. Restarts the worker with backoff (1 s doubling to 60 s, reset after a
 * minute of running), re-reading worker.env and redis.env each time (a re-bound tunnel changes
 * the port in redis.env);
 * TERM ends the worker gently and then itself.
 */
export const SUPERVISOR = `#!/usr/bin/env bash
set -u
dir=$(cd -- "$(dirname -- "$0")" && pwd -P)
cd -- "$dir"
bin=$1; shift
export PATH="$bin:$PATH"
echo $$ > ${REMOTE.supervisorPid}
child=""
stopping=0
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
log() { echo "$(date -u +%FT%TZ) supervisor: $*" >> ${REMOTE.supervisorLog}; }
delay=1
while [ "$stopping" = 0 ]; do
  set -a; . "./${REMOTE.env}"; . "./${REMOTE.redisEnv}"; set +a
  started=$(date +%s)
  node "$dir/${REMOTE.app}/bin/deepconf.js" worker "$@" >> ${REMOTE.workerLog} 2>&1 &
  child=$!
  echo "$child" > ${REMOTE.workerPid}
  log "worker $child started"
  status=0
  wait "$child" || status=$?
  # A trapped TERM interrupts wait; the worker is still handing its job back.
  while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
  rm -f ${REMOTE.workerPid}
  [ "$stopping" = 1 ] && break
  ran=$(( $(date +%s) - started ))
  if [ "$ran" -ge 60 ]; then delay=1; fi
  log "worker exited with status $status after \${ran}s; restarting in \${delay}s"
  sleep "$delay" & wait $! || true
  delay=$(( delay * 2 > 60 ? 60 : delay * 2 ))
done
log "stopped"
rm -f ${REMOTE.supervisorPid}
`;

/**
 * $1 folder, then the supervisor's arguments. Stops a running supervisor, then starts one
 * detached from this SSH session (setsid, no open descriptors) so it outlives it.
 */
export const START_SUPERVISOR = `set -eu
dir=$1; shift
cd -- "$dir"
if [ -f ${REMOTE.supervisorPid} ]; then
  old=$(cat ${REMOTE.supervisorPid})
  kill -TERM "$old" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.2; done
fi
chmod 700 ${REMOTE.supervisor}
setsid nohup bash "./${REMOTE.supervisor}" "$@" < /dev/null >> ${REMOTE.supervisorLog} 2>&1 &
echo $!
`;

/** $1 folder: TERM to the worker alone; the supervisor starts it again with the current env files. */
export const RESTART_WORKER = `set -u
cd -- "$1"
[ -f ${REMOTE.workerPid} ] && kill -TERM "$(cat ${REMOTE.workerPid})" 2>/dev/null
exit 0
`;

/** $1 folder: stops the supervisor and its worker (the job in flight is handed back). */
export const STOP_SUPERVISOR = `set -u
cd -- "$1" 2>/dev/null || exit 0
[ -f ${REMOTE.supervisorPid} ] || exit 0
pid=$(cat ${REMOTE.supervisorPid})
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
echo "supervisor $pid still running after 30 s" >&2
exit 1
`;

/** The GPU probe: one CSV line per GPU, then the CUDA version nvidia-smi reports. */
export const GPU_PROBE = `set -u
command -v nvidia-smi >/dev/null 2>&1 || { echo "nvidia-smi not found" >&2; exit 127; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits || exit $?
nvidia-smi | grep -o 'CUDA Version: *[0-9.]*' | head -n 1
`;
