#!/usr/bin/env bash
# Install the Vulkan loader and Mesa's lavapipe driver from bookworm-backports.
#
# Dawn rejects Debian 12's stock Mesa 22.3 ("shaderUniform*ArrayDynamicIndexing
# required"), so lavapipe must come from Mesa 24 or newer. The backports suite is
# added with the same URI as the machine's existing Debian source, so this script
# never names a mirror of its own.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-vulkan: must run as root (it calls apt-get)" >&2
  exit 1
fi

backports_list=/etc/apt/sources.list.d/sculpt-backports.sources

if [[ ! -f $backports_list ]]; then
  uri=""
  # deb822 sources (Debian 12 default) first, then one-line sources.list entries.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    if grep -qE '^Suites:.*\bbookworm\b' "$f"; then
      uri=$(awk '/^URIs:/ {print $2; exit}' "$f")
      [[ -n $uri ]] && break
    fi
  done
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list)
  fi
  if [[ -z $uri ]]; then
    echo "install-vulkan: no Debian bookworm APT source found to derive the backports URI from" >&2
    exit 1
  fi
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" >"$backports_list"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null

ls /usr/share/vulkan/icd.d/
