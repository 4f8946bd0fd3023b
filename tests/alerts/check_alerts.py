#!/usr/bin/env python3
"""Checks the conventions of alerts/ that promtool does not: every alert has a runbook with
the four sections, a runbook_url of base + name, the README lists it, and the promtool tests
hold an empty and a firing expectation for it. AliasRollbackFailure must match the
operations guide. Standard library only: the files are read line by line, which works
because we write them in one fixed layout.

Usage: check_alerts.py <alerts-dir>
"""

import pathlib
import re
import sys

RUNBOOK_BASE = "https://github.com/holomush/holomush/blob/main/alerts/runbooks/"
SEVERITIES = {"critical", "warning", "info"}
SECTIONS = ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"]

# The operations guide's rule, field by field.
GUIDE_RULE = {
    "expr": "increase(holomush_alias_rollback_failures_total[5m]) > 0",
    "for": "0m",
    "severity": "critical",
    "summary": "Alias database-cache inconsistency detected",
    "description": "A rollback failure has left aliases in an inconsistent state.",
}


def unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_rules(text):
    """Returns a list of (name, fields) with one entry per alerting rule. fields maps
    expr, for, severity, summary, description, runbook_url to their text; block scalars
    (`|`, `>-`) are returned joined with spaces."""
    rules = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)- alert: (\S+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        rule_indent = len(m.group(1))
        fields = {}
        i += 1
        while i < len(lines):
            line = lines[i]
            if line.strip() and not line.lstrip().startswith("#"):
                indent = len(line) - len(line.lstrip())
                if indent <= rule_indent:
                    break
                fm = re.match(r"^\s*(expr|for|severity|summary|description|runbook_url):\s*(.*)$", line)
                if fm:
                    key, value = fm.group(1), fm.group(2).strip()
                    if value in ("|", ">-", ">", "|-"):
                        body = []
                        i += 1
                        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                            if lines[i].strip():
                                body.append(lines[i].strip())
                            i += 1
                        fields[key] = " ".join(body)
                        continue
                    fields[key] = unquote(value)
            i += 1
        rules.append((m.group(2), fields))
    return rules


def check_rules(rules, errors):
    for name, f in rules:
        where = f"rule {name}"
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
            errors.append(f"{where}: name is not CamelCase")
        for key in ("expr", "for", "severity", "summary", "description", "runbook_url"):
            if key not in f:
                errors.append(f"{where}: no {key}")
        if f.get("severity") not in SEVERITIES:
            errors.append(f"{where}: severity {f.get('severity')!r} is not one of {sorted(SEVERITIES)}")
        if f.get("runbook_url") != RUNBOOK_BASE + name + ".md":
            errors.append(f"{where}: runbook_url {f.get('runbook_url')!r} is not {RUNBOOK_BASE + name + '.md'!r}")
        summary = f.get("summary", "")
        if "{{" in summary:
            errors.append(f"{where}: summary is templated; it must be static")
        if name == "AliasRollbackFailure":
            for key, want in GUIDE_RULE.items():
                if f.get(key) != want:
                    errors.append(f"{where}: {key} is {f.get(key)!r}, the operations guide says {want!r}")
            continue
        if not summary.endswith("."):
            errors.append(f"{where}: summary does not end in a period")
        if "{{" not in f.get("description", ""):
            errors.append(f"{where}: description is not templated")
    if "AliasRollbackFailure" not in {name for name, _ in rules}:
        errors.append("AliasRollbackFailure from the operations guide is missing")


def check_runbooks(alerts_dir, names, errors):
    runbooks = alerts_dir / "runbooks"
    for name in sorted(names):
        path = runbooks / f"{name}.md"
        if not path.is_file():
            errors.append(f"{name}: no runbook {path}")
            continue
        text = path.read_text()
        if not text.startswith(f"# {name}\n"):
            errors.append(f"{path}: does not start with '# {name}'")
        found = [line.strip() for line in text.splitlines() if line.startswith("## ")]
        if found != SECTIONS:
            errors.append(f"{path}: sections are {found}, want {SECTIONS}")
        for link in re.findall(r"\]\(([^)#:]+\.md)\)", text):
            if not (runbooks / link).is_file():
                errors.append(f"{path}: links to missing {link}")
    for path in sorted(runbooks.glob("*.md")):
        if path.stem not in names:
            errors.append(f"{path}: no alert of that name")
    readme = alerts_dir / "README.md"
    index = readme.read_text() if readme.is_file() else ""
    for name in sorted(names):
        if f"(runbooks/{name}.md)" not in index:
            errors.append(f"{readme}: does not link runbooks/{name}.md")


def check_tests(alerts_dir, names, errors):
    """Each alert needs an evaluation expecting nothing and one expecting it to fire."""
    empty, firing = set(), set()
    files = sorted((alerts_dir / "tests").glob("*.yaml"))
    if not files:
        errors.append(f"{alerts_dir / 'tests'}: no promtool test files")
    for path in files:
        lines = [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for i, line in enumerate(lines):
            m = re.match(r"^\s*alertname: (\S+)\s*$", line)
            if not m or i + 1 >= len(lines):
                continue
            nxt = lines[i + 1].strip()
            if nxt == "exp_alerts: []":
                empty.add(m.group(1))
            elif nxt == "exp_alerts:":
                firing.add(m.group(1))
            else:
                errors.append(f"{path}: after 'alertname: {m.group(1)}' expected exp_alerts, got {nxt!r}")
    for name in sorted(names):
        if name not in empty:
            errors.append(f"{name}: no promtool evaluation expecting no alert (just before the threshold)")
        if name not in firing:
            errors.append(f"{name}: no promtool evaluation expecting it to fire (at the threshold)")
    for name in sorted((empty | firing) - names):
        errors.append(f"tests name {name}, which is not an alert")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    alerts_dir = pathlib.Path(argv[1])
    rules = parse_rules((alerts_dir / "holomush.rules.yaml").read_text())
    names = {name for name, _ in rules}
    errors = []
    check_rules(rules, errors)
    check_runbooks(alerts_dir, names, errors)
    check_tests(alerts_dir, names, errors)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f"{len(rules)} rules, {len(names)} alerts: runbooks, URLs and tests complete")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
