#!/bin/bash
# The install path the README gives until vbatch is on the npm registry, run for real: npm pack in
# this checkout, npm i -g of the tarball into a scratch prefix (better-sqlite3 compiles from source
# where its prebuilt download is unreachable, as in CI: a minute or two), then the installed
# `vbatch --version` and the README's quick start from the installed package. .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
version=$(node -p 'require("./package.json").version')
fail() { echo "check-install: FAILED: $*" >&2; exit 1; }

# `prepare` (clean, build) runs first, as it does for anyone packing a clone.
npm pack --pack-destination "$scratch" > "$scratch/pack.log" 2>&1 || { cat "$scratch/pack.log" >&2; fail "npm pack"; }
tgz="$scratch/vbatch-$version.tgz"
[[ -f $tgz ]] || fail "npm pack wrote no $tgz"

# From npm's cache where it has the dependencies, else the registry.
npm i -g --prefix "$scratch/prefix" --prefer-offline --no-audit --no-fund "$tgz" > "$scratch/install.log" 2>&1 ||
  { cat "$scratch/install.log" >&2; fail "npm i -g $tgz"; }
bin="$scratch/prefix/bin/vbatch"
[[ -x $bin ]] || fail "no executable $bin after the install"

got=$("$bin" --version)
[[ $got == "$version" ]] || fail "vbatch --version printed '$got', not $version"

# The quick start, with the example the package ships, in a directory of its own.
example="$scratch/prefix/lib/node_modules/vbatch/examples/quickstart.jsonl"
[[ -f $example ]] || fail "the installed package has no examples/quickstart.jsonl"
mkdir "$scratch/work"
(cd "$scratch/work" && "$bin" run "$example" -o out.jsonl --launch sim) || fail "the quick start"
rows=$(grep -c . "$example")
answered=$(grep -c . "$scratch/work/out.jsonl")
[[ $rows == "$answered" ]] || fail "the quick start answered $answered of $rows rows"
echo "check-install: vbatch $version installed from $(basename "$tgz") into a scratch prefix; --version and the quick start ($answered rows) ran from it"
