#!/usr/bin/env bash
# Makes sure OpenSSH's server is installed at /usr/sbin/sshd (the SSH tests start private
# instances of it on free ports; nothing here starts or configures the system sshd), installing
# openssh-server with apt-get when it is missing and this machine allows that. Prints what it
# did; exit 1 when it cannot.
set -euo pipefail
sshd=/usr/sbin/sshd

if [ -x "$sshd" ] && command -v ssh-keygen >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "ensure-sshd: installing openssh-server with apt-get" >&2
  # The package would start the system sshd on port 22; a policy-rc.d that answers 101 ("action
  # forbidden") keeps it from doing so, as in Docker images. Only when there is none already.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null; }
else
  echo "ensure-sshd: no OpenSSH server at $sshd and no way to install it: install openssh-server (apt-get install openssh-server)" >&2
  exit 1
fi

if [ -x "$sshd" ] && command -v ssh-keygen >/dev/null 2>&1; then exit 0; fi
echo "ensure-sshd: openssh-server was installed but $sshd or ssh-keygen is still missing" >&2
exit 1
