#!/usr/bin/env bash
# Writes tests/vectors/store-v2.redb: a store made by today's voltvend through its command
# line only (init, the example site's import, its tariff, one account and one sale).
# Run from the repository root: bash tests/vectors/make-store-v2.sh [path/to/voltvend]
set -euo pipefail
bin="${1:-target/debug/voltvend}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$bin" init --dir "$dir" --admin admin >/dev/null
cfg="$dir/voltvend.toml"
for kind in buildings units gateways meters tenants; do
  "$bin" import "$kind" "examples/site/$kind.csv" --config "$cfg"
done
"$bin" tariff examples/site/tariff-default.toml --config "$cfg"
store="$dir/voltvend.redb"
"$bin" ledger --store "$store" --as vectors open T0001 --meter A101-1 --key vector-open-T0001
"$bin" ledger --store "$store" --as vectors sale T0001 50 --receipt R000001 --key vector-sale-T0001
"$bin" ledger --store "$store" verify
cp "$store" tests/vectors/store-v2.redb
ls -l tests/vectors/store-v2.redb
