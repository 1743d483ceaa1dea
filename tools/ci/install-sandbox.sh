#!/usr/bin/env bash
# Install what the ChainCoder Python sandbox needs on Debian/Ubuntu:
# python3 (the interpreter that runs candidate programs), util-linux
# (unshare, prlimit, setpriv) and bubblewrap (the isolation layer used when
# unshare cannot create namespaces, and tested in CI next to unshare).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-sandbox: must run as root (it calls apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 util-linux bubblewrap

for tool in python3 unshare prlimit setpriv bwrap; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-sandbox: $tool is still missing after apt-get install" >&2
    exit 1
  fi
done
echo "install-sandbox: $(python3 --version), $(bwrap --version)"
