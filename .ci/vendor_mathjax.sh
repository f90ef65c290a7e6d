#!/bin/sh
# Install MathJax 3.2.2 from the npm registry into book/_static/mathjax (set-up step, run by make).
set -eu
MJ_VERSION=3.2.2
DEST=book/_static/mathjax
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$MJ_VERSION" >/dev/null && tar xzf "mathjax-$MJ_VERSION.tgz")
rm -rf "$DEST"; mkdir -p "$DEST/output/chtml/fonts" "$DEST/input/tex"
cp "$tmp/package/es5/tex-mml-chtml.js" "$DEST/"
cp -r "$tmp/package/es5/output/chtml/fonts/woff-v2" "$DEST/output/chtml/fonts/"
cp -r "$tmp/package/es5/input/tex/extensions" "$DEST/input/tex/"
cp "$tmp/package/LICENSE" "$DEST/"
