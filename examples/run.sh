#!/usr/bin/env bash
# Installs each example app from the packed tarballs in .packs/ (made by `npm run pack:packages`),
# as an adopter installs from npm, and runs its e2e test against the Redis at 127.0.0.1:6379.
# Each runs from a copy outside this repository: inside it, Node would also find this repository's
# node_modules and hide a dependency the packages forgot to declare.
# Each runs twice: with the newest versions the example and the packages' peer ranges admit (a
# new app), and pinned to the lowest version of each peer range (an app that already has those
# keeps them: npm sees the peers satisfied). EXAMPLE_PEERS=newest (or lowest) runs one of the two.
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

examples=("$@")
[ ${#examples[@]} -gt 0 ] || examples=(throttling-only lockout-only sessions-auth)
read -ra modes <<<"${EXAMPLE_PEERS:-newest lowest}"

for example in "${examples[@]}"; do
  mapfile -t tarballs < <(node tarballs-for.js "$example")
  for peers in "${modes[@]}"; do
    echo "== examples/$example, $peers peers: npm install $(printf '%s ' "${tarballs[@]##*/}")"
    copy="$work/$example-$peers"
    mkdir "$copy"
    tar -C "$example" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$copy" -xf -
    (
      cd "$copy"
      case "$peers" in
        newest) ;;
        lowest) echo "   pinned: $(node "$here/pin-lowest-peers.js" "$example" . | tr '\n' ' ')" ;;
        *) echo "EXAMPLE_PEERS: unknown '$peers' (newest, lowest)" >&2 && exit 1 ;;
      esac
      npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "${tarballs[@]}"
      npm test
    )
  done
done
