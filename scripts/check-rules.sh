#!/usr/bin/env bash
# Checks tanksim's Prometheus rules (the PrometheusRule objects of deploy/observability) with
# promtool, the way Prometheus itself will load and evaluate them:
#   1. extract   spec.groups of every PrometheusRule in the kustomization -> a plain rule file
#                (scripts/check_rules.py extract), in a temporary directory;
#   2. check     `promtool check rules` on it (syntax, PromQL, templates, duplicate rules);
#   3. test      `promtool test rules` on the unit tests (deploy/observability/tests/rules.test.yaml):
#                each alert's labels and rendered annotations where it fires, silence where it
#                must not, recording rules' values;
#   4. coverage  every alert (each severity) is expected to fire somewhere and to stay quiet
#                somewhere, every recording rule is read by a promql_expr_test, each runbook_url
#                names a heading of docs/observability.md (scripts/check_rules.py coverage).
# promtool resolves the test file's rule_files relative to the test file, so a copy of it goes
# beside the extracted rules; nothing is written into the repository.
#
# Usage: scripts/check-rules.sh [TESTFILE]
#   TESTFILE defaults to deploy/observability/tests/rules.test.yaml; pass an edited copy to
#   watch a check fail.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/tools.sh
ensure_python_tools
ensure_prometheus

tests="${1:-deploy/observability/tests/rules.test.yaml}"
[ -f "$tests" ] || { echo "check-rules: no test file $tests" >&2; exit 64; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The name the test file's rule_files expects.
"$TANKSIM_PYTHON" scripts/check_rules.py extract "$work/tanksim.rules.yaml"
cp "$tests" "$work/rules.test.yaml"

echo "== promtool check rules"
"$TANKSIM_PROMTOOL" check rules "$work/tanksim.rules.yaml"
echo "== promtool test rules $tests"
"$TANKSIM_PROMTOOL" test rules "$work/rules.test.yaml"
echo "== coverage"
if ! counts="$("$TANKSIM_PYTHON" scripts/check_rules.py coverage "$work/rules.test.yaml" docs/observability.md)"; then
    echo "check-rules: $tests does not test every rule (gaps above)" >&2
    exit 1
fi

echo "check-rules: $counts, every alert fires and stays quiet where it should"
