#!/usr/bin/env bash
# Installs each example app from the packed tarballs in .packs/ (made by `npm run pack:packages`),
# as an adopter installs from npm, and runs its e2e test against the Redis at 127.0.0.1:6379.
# Each runs from a copy outside this repository: inside it, Node would also find this repository's
# node_modules and hide a dependency the packages forgot to declare.
set -euo pipefail
cd "$(dirname "$0")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

examples=("$@")
[ ${#examples[@]} -gt 0 ] || examples=(throttling-only lockout-only sessions-auth)

for example in "${examples[@]}"; do
  mapfile -t tarballs < <(node tarballs-for.js "$example")
  echo "== examples/$example: npm install $(printf '%s ' "${tarballs[@]##*/}")"
  mkdir "$work/$example"
  tar -C "$example" --exclude=./node_modules --exclude=./dist -cf - . | tar -C "$work/$example" -xf -
  (
    cd "$work/$example"
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "${tarballs[@]}"
    npm test
  )
done
