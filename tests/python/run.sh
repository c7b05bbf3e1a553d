#!/usr/bin/env bash
# Generates a Python client from proto/ and runs customers_client_check.py against a freshly
# started kefu-customers on a temporary SQLite file, then platform_client_check.py against
# `kefu dev` (every service behind the gateway) with its API key. Needs: cargo, python3 with
# requirements.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server='' platform=''
trap 'kill $server $platform 2>/dev/null || true; wait $server $platform 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/gen"
mapfile -t protos < <(cd "$root/proto" && find kefu -name '*.proto')
python3 -m grpc_tools.protoc -I "$root/proto" --python_out="$work/gen" --grpc_python_out="$work/gen" \
  "${protos[@]}"

cargo build --quiet --manifest-path "$root/Cargo.toml" -p kefu-customers -p kefu
bin="$root/target/debug"
export KEFU_DATA_DIR="$work/data" KEFU_LISTEN=127.0.0.1:0 KEFU_INTERNAL_KEY
KEFU_INTERNAL_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

"$bin/kefu-customers" > "$work/out" 2> "$work/log" &
server=$!
# The binary prints its address once migrated and ready.
for _ in $(seq 1 100); do
  address=$(sed -n 's/^kefu-customers listening on //p' "$work/out")
  [ -n "$address" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "kefu-customers did not start" >&2; exit 1; }

token=$("$bin/kefu" principal --role agent --ttl 600)
python3 "$root/tests/python/customers_client_check.py" "$address" "$token" "$work/gen"

# The whole platform behind the gateway, as `kefu dev` runs it, on a data directory of its own.
KEFU_DATA_DIR="$work/platform" "$bin/kefu" dev > "$work/platform-out" 2> "$work/platform-log" &
platform=$!
for _ in $(seq 1 300); do
  gateway=$(sed -n 's/^kefu dev: gateway listening on \([^ ]*\).*/\1/p' "$work/platform-out")
  [ -n "$gateway" ] && [ -s "$work/platform/dev-admin.key" ] && break
  kill -0 "$platform" 2>/dev/null || { cat "$work/platform-log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$gateway" ] || { echo "kefu dev did not start" >&2; exit 1; }
KEFU_BIN="$bin/kefu" KEFU_DATA_DIR="$work/platform" \
  python3 "$root/tests/python/platform_client_check.py" "$gateway" "$(cat "$work/platform/dev-admin.key")" "$work/gen"
