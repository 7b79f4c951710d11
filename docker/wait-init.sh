#!/usr/bin/env bash
# hie-wait-init COMMAND [ARG...] -- used by the nodes of docker/compose.yaml.
# Waits until the one-shot init job (hie-init-network) has written its marker
# in the shared PKI volume, then runs COMMAND (exec: it gets the signals).
# Docker Compose already holds the nodes back until init has completed
# (depends_on: service_completed_successfully); podman-compose 1.0 starts them
# at once, so this wait is what orders them there.
# Env: HIE_INIT_MARKER (default /var/lib/hie/pki/init-complete),
#      HIE_INIT_WAIT seconds (default 300).
set -euo pipefail
trap 'exit 143' TERM   # as PID 1, bash would otherwise ignore podman/docker stop
trap 'exit 130' INT
marker=${HIE_INIT_MARKER:-/var/lib/hie/pki/init-complete}
wait_s=${HIE_INIT_WAIT:-300}
if (($# == 0)); then
  echo "hie-wait-init: usage: hie-wait-init COMMAND [ARG...]" >&2
  exit 2
fi
for ((i = 0; i < wait_s; i++)); do
  [[ -f "$marker" ]] && exec "$@"
  ((i % 15 == 0)) && echo "hie-wait-init: waiting for the init job ($marker)" >&2
  sleep 1
done
echo "hie-wait-init: the init job did not finish within ${wait_s} s (no $marker); giving up" >&2
exit 1
