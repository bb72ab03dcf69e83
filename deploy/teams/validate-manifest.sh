#!/usr/bin/env bash
# Validates deploy/teams/manifest.json against Microsoft's published schema for the version its
# $schema names, taken from the npm package @microsoft/app-manifest (needs npm and python3-jsonschema).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
version="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifestVersion"])' "$here/manifest.json")"
(cd "$tmp" && npm pack --silent @microsoft/app-manifest >/dev/null && tar xzf ./*.tgz)
schema="$tmp/package/build/json-schemas/teams/v$version/MicrosoftTeams.schema.json"
python3 - "$schema" "$here/manifest.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
manifest = json.load(open(sys.argv[2]))
errors = list(jsonschema.Draft4Validator(schema).iter_errors(manifest))
for e in errors:
    print("manifest.json:", "/".join(map(str, e.path)) or "(root)", e.message)
print("manifest.json is valid against", schema.get("$schema", "the schema") if not errors else "", "" if not errors else "")
sys.exit(1 if errors else 0)
PY
