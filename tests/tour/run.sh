#!/usr/bin/env bash
# Runs docs/tour.md exactly as written: starts `kefu dev` on a fresh data directory, then pastes
# every ```sh block of the page, in order, into one bash with -e, so a step that fails (or a
# refusal that does not come) fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build -q -p kefu
work=$(mktemp -d)
export KEFU_DATA_DIR="$work/data"
./target/debug/kefu dev >"$work/dev.log" 2>&1 &
dev=$!
trap 'kill $dev 2>/dev/null || true; wait $dev 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  [ -s "$KEFU_DATA_DIR/dev-admin.key" ] && break
  kill -0 $dev 2>/dev/null || { cat "$work/dev.log"; exit 1; }
  sleep 0.2
done
awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0; next} inside' docs/tour.md >"$work/tour.sh"
if ! bash -euo pipefail -x "$work/tour.sh" >"$work/tour.log" 2>&1; then
  [ -n "${TOUR_LOG:-}" ] && cp "$work/tour.log" "$TOUR_LOG"
  tail -n 60 "$work/tour.log"
  echo "tour: a step of docs/tour.md failed (above)" >&2
  exit 1
fi
[ -n "${TOUR_LOG:-}" ] && cp "$work/tour.log" "$TOUR_LOG"
echo "tour: every step of docs/tour.md ran ($(grep -c '^+ call\|^+ refused' "$work/tour.log") calls)"
