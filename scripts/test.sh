#!/usr/bin/env bash
# Runs every suite (Rust core natively, vitest: Node, Chromium, set-up; the bench's smoke run), keeps going
# when one fails, and ends with one line summing them all: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
passed=0
failed=0
broken=()

echo "== cargo test (crates/core, with the parallel feature)"
cargo test -p seqwasm-core --all-features 2>&1 | tee test-results/cargo.log
status=${PIPESTATUS[0]}
read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p + 0, f + 0 }' test-results/cargo.log)
passed=$((passed + p)); failed=$((failed + f))
# A suite that fails without a failing test (a build error, a crash) counts as one failure.
[ "$status" = 0 ] || [ "$f" -gt 0 ] || broken+=("cargo test")

echo "== vitest (Node, Chromium, set-up)"
rm -f test-results/vitest.json
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
status=$?
f=0
if [ -f test-results/vitest.json ]; then
  read -r p f < <(node -e 'const r = require("./test-results/vitest.json"); console.log(r.numPassedTests, r.numFailedTests)')
  passed=$((passed + p)); failed=$((failed + f))
fi
[ "$status" = 0 ] || [ "$f" -gt 0 ] || broken+=("vitest")

echo "== examples, quick mode (each asserts that it beats its baseline)"
for example in examples/forecast-co2.js examples/char-lm.js examples/weather.js examples/vanishing-gradients.js examples/tbptt.js examples/gru-vs-lstm.js examples/labelling.js examples/one-to-many.js examples/dates.js examples/forget-gate.js; do
  if node "$example" --quick; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "$example --quick failed"; fi
done

echo "== bench smoke (no timing assertion: the run must only complete)"
if npm run --silent bench -- --smoke; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "bench smoke failed"; fi

failed=$((failed + ${#broken[@]}))
[ ${#broken[@]} = 0 ] || echo "suites that failed outside a test: ${broken[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
