#!/usr/bin/env bash
# The test suite: compiles, then runs every *.test.js under dist/ with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
exec node --test --test-reporter=spec dist/src/ "$@"
