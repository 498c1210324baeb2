#!/usr/bin/env bash
# Refresh ../static from the pinned npm packages (package-lock.json): `make graphiql-assets`.
# Installs into a scratch directory (never into the repository), copies the production
# bundles, styles and licences into version-named folders, and strips the source-map
# comments (the maps are not shipped). After changing a version here, change it in
# ../page.html and ../NOTICE.md too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
static="$here/../static"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$scratch/"
(cd "$scratch" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
modules="$scratch/node_modules"
version() { node -p "require('$modules/$1/package.json').version"; }

copy() {  # copy PACKAGE FOLDER FILE... : files of PACKAGE into static/FOLDER-VERSION
  local package="$1" folder="$2"
  shift 2
  local target
  target="$static/$folder-$(version "$package")"
  rm -rf "$static/$folder"-[0-9]*
  mkdir -p "$target"
  for file in "$@"; do
    sed -e '/^\/\/# sourceMappingURL=/d' -e 's|/\*# sourceMappingURL=[^*]*\*/||' \
      "$modules/$package/$file" >"$target/$(basename "$file")"
  done
}

copy react react umd/react.production.min.js LICENSE
copy react-dom react-dom umd/react-dom.production.min.js LICENSE
copy graphiql graphiql graphiql.min.js graphiql.min.css LICENSE
copy @graphiql/plugin-explorer plugin-explorer dist/index.umd.js dist/style.css
# The explorer plugin's npm package carries no licence file; it is the graphiql monorepo's
# (MIT, GraphQL Contributors). Its bundle includes graphiql-explorer, whose licence follows.
plugin="$static/plugin-explorer-$(version @graphiql/plugin-explorer)"
cp "$modules/graphiql/LICENSE" "$plugin/LICENSE"
cp "$modules/@graphiql/plugin-explorer/node_modules/graphiql-explorer/LICENSE" \
  "$plugin/LICENSE.graphiql-explorer"
for license in "$static"/*/LICENSE*; do mv "$license" "$license.txt"; done
du -ch "$static"/*-[0-9]*/* | tail -1
