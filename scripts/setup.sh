#!/usr/bin/env bash
# Installs what Chiral's build and tests need on a fresh Debian machine with
# Node >= 20: the pinned pnpm, the workspace's packages, and (as root) the
# system tools the network-namespace, NAT-lab (and its WAN emulation: a small C
# program built against libnetfilter_queue), browser and Redis cluster tests use.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
SYSTEM_PACKAGES="${CHIRAL_SYSTEM_PACKAGES:-iproute2 iptables coturn conntrack chromium ethtool gcc libnetfilter-queue-dev redis-server}"

log() { printf '[setup] %s\n' "$*" >&2; }

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  log "Node $(node --version) is too old: Chiral needs Node 20 or newer"
  exit 1
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2
  hash -r
fi

# System tools: only as root on apt machines; otherwise the tests that need
# them print why they skip.
missing=()
for pkg in $SYSTEM_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # coturn and redis-server come with system services; tests start their own
    # servers, so keep the packages from starting theirs (policy-rc.d exit 101:
    # "action forbidden"), unless the machine already has such a policy.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy"
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || { [ -z "$policy" ] || rm -f "$policy"; exit 1; }
    [ -z "$policy" ] || rm -f "$policy"
    if command -v systemctl >/dev/null 2>&1; then
      for unit in coturn redis-server; do systemctl disable --now "$unit" >/dev/null 2>&1 || true; done
    fi
  else
    log "not installing ${missing[*]} (needs root and apt-get); tests that need them will skip"
  fi
fi

log "installing workspace packages"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3 >&2
