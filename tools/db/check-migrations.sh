#!/usr/bin/env bash
# Fails when the entities and the migrations disagree: migrates a scratch database, then asks
# TypeORM whether it would generate anything more.
set -euo pipefail
cd "$(dirname "$0")/../.."
db="kiln_migcheck_$$"
admin_url="${KILN_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
trap 'psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
url="${admin_url%/*}/$db"
DATABASE_URL="$url" node -r ./tools/register.js node_modules/typeorm/cli.js migration:run -d tools/db/data-source.ts >/dev/null
DATABASE_URL="$url" node -r ./tools/register.js node_modules/typeorm/cli.js migration:generate --check -d tools/db/data-source.ts tmp/unused
echo "migrations match the entities"
