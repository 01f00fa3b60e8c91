#!/bin/sh
# Installs a packed tributary (the tarball `npm pack` makes) into an app's folder, with the
# dependencies the app's own package.json declares and none of their devDependencies: the
# runtime stage of the Dockerfile, kept in one script so a test can replay it outside Docker.
# Afterwards `<app dir>/node_modules/.bin/tributary run app.ts` runs the app.
#
# Usage: docker/install.sh <tributary-x.y.z.tgz> [app dir, default .]
set -eu
tarball=$(realpath "$1")
cd "${2:-.}"
# An app folder without a package.json gets one: ESM, as `tributary dev`/`run` expect of app.ts.
[ -f package.json ] || printf '{ "private": true, "type": "module" }\n' >package.json
npm install --omit=dev --no-audit --no-fund --no-update-notifier "$tarball"
