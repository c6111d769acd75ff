#!/usr/bin/env bash
# Checks the reference deployment as CI does: `nginx -t` on the nginx configuration and
# `systemd-analyze verify` on the unit, each in a scratch copy whose paths point at files
# that exist here (a self-signed certificate, the propusk binary given as $1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${1:?usage: deploy/check.sh PATH/TO/propusk}")"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# nginx: the site and proxy snippets under a scratch prefix, with a throwaway certificate.
mkdir -p "$scratch/nginx/conf.d" "$scratch/tls" "$scratch/log"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=propusk.example.org" \
  -keyout "$scratch/tls/privkey.pem" -out "$scratch/tls/fullchain.pem" 2>/dev/null
sed -e "s#/etc/propusk/tls#$scratch/tls#g" -e "s#/etc/nginx/propusk-proxy.conf#$scratch/nginx/propusk-proxy.conf#g" \
  "$here/nginx/propusk.conf" > "$scratch/nginx/conf.d/propusk.conf"
cp "$here/nginx/propusk-proxy.conf" "$scratch/nginx/propusk-proxy.conf"
sed -e "s#/etc/nginx/conf.d#$scratch/nginx/conf.d#g" -e "s#/var/log/nginx#$scratch/log#g" \
  -e "s#/run/nginx.pid#$scratch/nginx.pid#g" "$here/nginx/nginx.conf" > "$scratch/nginx/nginx.conf"
nginx -t -c "$scratch/nginx/nginx.conf" -e "$scratch/log/error.log"

# systemd: the unit with ExecStart pointing at the binary built here.
sed -e "s#/usr/local/bin/propusk#$bin#" "$here/systemd/propusk.service" > "$scratch/propusk.service"
# A directive systemd cannot parse is only a warning to it (exit 0): any word is a failure here.
if ! out="$(systemd-analyze verify --man=no "$scratch/propusk.service" 2>&1)" || [ -n "$out" ]; then
  echo "systemd-analyze verify: $out" >&2
  exit 1
fi
echo "deploy: nginx -t and systemd-analyze verify passed"
