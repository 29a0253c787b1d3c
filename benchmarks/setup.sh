#!/usr/bin/env bash
# What benchmarks/run.py needs beyond `pip install -e '.[test]'`: nginx, which serves the
# generated sites on loopback (Debian and Ubuntu package `nginx`). Run as root or with sudo.
#
# The benchmark starts its own nginx, unprivileged, on a free loopback port with a generated
# config (benchmarks/servers.py): the system service is not needed. Debian starts that service
# (port 80) when the package is installed; `systemctl disable --now nginx` stops it if unwanted.
# For profiling (BENCHMARKS.md): `pip install py-spy`.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    echo "nginx is installed: $( (command -v nginx || echo /usr/sbin/nginx) | head -1)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
    [ -t 0 ] || sudo=(sudo -n)  # never wait for a password nobody can type (CI)
else
    echo "benchmarks/setup.sh: nginx is missing; as root: apt-get install -y nginx" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "benchmarks/setup.sh: no apt-get here; install nginx with this system's packages" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q nginx || {
    "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q nginx
}
