"""The Python half of scripts/check-rules.sh: extracts tanksim's Prometheus rules from the
PrometheusRule manifests into a plain rule file promtool reads, and checks that the promtool
unit tests cover every rule (promtool itself only checks the cases that are written).

    check_rules.py extract OUT            rules of deploy/observability/kustomization.yaml -> OUT
    check_rules.py coverage TESTFILE DOC  TESTFILE's cases cover its rule_files; runbooks in DOC

`coverage` exits 1 and names every gap: an alert never expected to fire (each severity of an
alert that has several rules), an alert never expected to stay quiet, a recording rule no
promql_expr_test expression reads, a runbook_url whose anchor is no heading of DOC, an
expected alert whose severity is not its rule's, a case naming an alert that does not exist,
a group_eval_order that does not list every rule group.
On success it prints one line of counts for the script's summary.
"""

import re
import sys
from pathlib import Path

import yaml

KUSTOMIZATION = Path("deploy/observability/kustomization.yaml")


def extract(out: Path) -> None:
    """Writes the spec.groups of every PrometheusRule listed in KUSTOMIZATION to `out`."""
    groups = []
    for resource in yaml.safe_load(KUSTOMIZATION.read_text())["resources"]:
        path = KUSTOMIZATION.parent / resource
        if not path.is_file():
            # A directory or remote base would need kustomize itself; none is used today.
            sys.exit(f"check_rules: resource {resource} is not a file; extend extract()")
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "PrometheusRule":
                groups += doc["spec"]["groups"]
    if not groups:
        sys.exit(f"check_rules: no PrometheusRule groups in {KUSTOMIZATION}")
    out.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file (code fences skipped)."""
    anchors, seen, fenced = set(), {}, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
            # A repeated heading gets -1, -2, ... appended, as on GitHub.
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def coverage(test_file: Path, doc: Path) -> None:
    """Exits 1 naming every rule the unit tests in `test_file` leave untested (module doc)."""
    tests = yaml.safe_load(test_file.read_text())
    groups = [
        group
        for rule_file in tests["rule_files"]
        for group in yaml.safe_load((test_file.parent / rule_file).read_text())["groups"]
    ]
    rules = [rule for group in groups for rule in group["rules"]]
    alerts = [rule for rule in rules if "alert" in rule]
    records = [rule["record"] for rule in rules if "record" in rule]
    severities = {}  # alert name -> the severities of its rules
    for rule in alerts:
        severities.setdefault(rule["alert"], set()).add(rule.get("labels", {}).get("severity"))
    anchors = github_anchors(doc.read_text())

    problems = []
    # Groups left out of group_eval_order run after the listed ones: a new recording group
    # would then lag the alerts that read it by one step, so the order must name them all.
    ordered, names = tests.get("group_eval_order"), [group["name"] for group in groups]
    if ordered is not None and sorted(ordered) != sorted(names):
        problems.append(f"group_eval_order {ordered} does not list exactly the groups {names}")
    fired = set()  # (alert name, severity) expected firing in some case
    quiet = set()  # alert names expected not firing in some case
    exprs = []
    for number, group in enumerate(tests["tests"], 1):
        exprs += [case["expr"] for case in group.get("promql_expr_test", [])]
        for case in group.get("alert_rule_test", []):
            name, at = case["alertname"], f"{case['eval_time']} (test group {number})"
            if name not in severities:
                problems.append(f"{name} at {at}: no alerting rule has this name")
                continue
            expected = case.get("exp_alerts") or []
            if not expected:
                quiet.add(name)
            for alert in expected:
                labels = alert.get("exp_labels", {})
                severity = labels.get("severity")
                if severity not in severities[name]:
                    problems.append(
                        f"{name} at {at}: severity {severity!r} is not one of its rules' "
                        f"{sorted(map(str, severities[name]))}"
                    )
                fired.add((name, severity))
                url = alert.get("exp_annotations", {}).get("runbook_url", "")
                anchor = url.partition("#")[2]
                if anchor not in anchors:
                    problems.append(
                        f"{name} at {at}: runbook_url {url!r} names no heading of {doc}"
                    )

    for name, wanted in sorted(severities.items()):
        for severity in sorted(wanted, key=str):
            if (name, severity) not in fired:
                problems.append(f"{name} (severity {severity}) is never expected to fire")
        if name not in quiet:
            problems.append(f"{name} is never expected to stay quiet (exp_alerts: [])")
    for record in records:
        used = re.compile(rf"(?<![\w:]){re.escape(record)}(?![\w:])")
        if not any(used.search(expr) for expr in exprs):
            problems.append(f"recording rule {record} is read by no promql_expr_test expr")

    if problems:
        print("check_rules: the unit tests leave gaps:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"{len(rules)} rules ({len(alerts)} alerting, {len(records)} recording), "
          f"{len(tests['tests'])} test groups")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["extract", out]:
            extract(Path(out))
        case ["coverage", test_file, doc]:
            coverage(Path(test_file), Path(doc))
        case _:
            sys.exit(__doc__)
