#!/usr/bin/env python3
"""Checks the alert rules against what running processes export: every holomush_* series an
alert reads must be in the scrape of the process that owns it, with every label the alert
matches or groups by, and the values it matches on (so a renamed metric, label or label
value fails here instead of silencing an alert). Every holomush_* name a process exports
must also be in docs/design/metrics.md.

Usage: live_metrics.py --rules FILE --docs FILE --scrape COMPONENT=FILE [--scrape ...]
COMPONENT is core, gateway or operator; FILE is the text of its /metrics. Rules that read
metrics of a component not given are skipped; at least one selector must be checked.
Standard library only.
"""

import argparse
import re
import sys

# Labels that Prometheus adds from the scrape target (static config or ServiceMonitor).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
# Exported by every HoloMUSH process through common::ProcessMetrics.
COMMON = {"holomush_ready", "holomush_build_info",
          "holomush_tls_certificate_not_after_timestamp_seconds"}
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def owners(name):
    if name.startswith("holomush_operator_"):
        return ["operator"]
    if name.startswith("holomush_gateway_"):
        return ["gateway"]
    if name in COMMON:
        return ["core", "gateway"]
    return ["core"]


def parse_scrape(text):
    """{metric name: [labels dict, ...]} from Prometheus text exposition."""
    series = {}
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+", line)
        if not m:
            raise ValueError("not a sample line: " + line)
        labels = dict(label_re.findall(m.group(3) or ""))
        series.setdefault(m.group(1), []).append(labels)
    return series


def rule_exprs(text):
    """[(alert, expr)] from the rules file (expr on one line or as a `|` block)."""
    out = []
    lines = text.splitlines()
    alert = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*- alert: (\S+)", line)
        if m:
            alert = m.group(1)
        m = re.match(r"^(\s*)expr:\s*(.*)$", line)
        if m and alert:
            value = m.group(2).strip()
            if value in ("|", ">", "|-", ">-"):
                indent = len(m.group(1))
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i].strip())
                    i += 1
                value = " ".join(block)
                out.append((alert, value))
                continue
            out.append((alert, value))
        i += 1
    return out


def selectors(expr):
    """[(metric, [(label, op, value)])] for every holomush_* selector in expr."""
    found = []
    for m in re.finditer(r"\b(holomush_[a-zA-Z0-9_]+)\s*(\{([^}]*)\})?", expr):
        matchers = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"',
                              m.group(3) or "")
        found.append((m.group(1), matchers))
    return found


def grouping_labels(expr):
    labels = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        labels.update(x.strip() for x in m.group(1).split(",") if x.strip())
    return labels


def documented_names(text):
    names = set()
    for m in re.finditer(r"`(holomush_[a-zA-Z0-9_]+)`", text):
        names.add(m.group(1))
    return names


def shape(value):
    """The case style of a label value: upper (OK, UNAVAILABLE), lower (say) or mixed."""
    if re.fullmatch(r"[A-Z0-9_]+", value):
        return "upper"
    if re.fullmatch(r"[a-z0-9_]+", value):
        return "lower"
    return "mixed"


def base_name(name):
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def check(rules_text, docs_text, scrapes):
    errors = []
    checked = 0
    documented = documented_names(docs_text)
    for component, series in scrapes.items():
        for name in sorted(series):
            if name.startswith("holomush_") and base_name(name) not in documented \
                    and name not in documented:
                errors.append(f"{component} exports {name}, which docs/design/metrics.md lacks")
    for alert, expr in rule_exprs(rules_text):
        label_pool = set()
        for metric, matchers in selectors(expr):
            for component in owners(base_name(metric)):
                if component not in scrapes:
                    continue
                checked += 1
                rows = scrapes[component].get(metric)
                where = f"{alert}: {metric} in {component}'s /metrics"
                if not rows:
                    errors.append(f"{where}: no such series")
                    continue
                for labels in rows:
                    label_pool.update(labels)
                for label, op, value in matchers:
                    if label in TARGET_LABELS:
                        continue
                    values = {labels[label] for labels in rows if label in labels}
                    if not values:
                        errors.append(f"{where}: no series has the label {label}")
                    elif op == "=" and value not in values:
                        errors.append(f'{where}: no series has {label}="{value}" '
                                      f"(values: {', '.join(sorted(values))})")
                    elif op == "=~" and re.fullmatch(r"[A-Za-z0-9_|]+", value) and \
                            not any(re.fullmatch(value, v) for v in values) and \
                            {shape(a) for a in value.split("|")} != {shape(v) for v in values}:
                        # No value it matches is exported yet (gRPC error codes appear with
                        # the first error), and the values there are spelt another way.
                        errors.append(f'{where}: no series has {label}=~"{value}", and the '
                                      f"values there are spelt otherwise: {', '.join(sorted(values))}")
        if label_pool:
            for label in sorted(grouping_labels(expr) - TARGET_LABELS - {"le"} - label_pool):
                errors.append(f"{alert}: groups by {label}, which none of its series carries")
    return checked, errors


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", required=True)
    parser.add_argument("--docs", required=True)
    parser.add_argument("--scrape", action="append", required=True, metavar="COMPONENT=FILE")
    args = parser.parse_args(argv)
    scrapes = {}
    for item in args.scrape:
        component, _, path = item.partition("=")
        if component not in ("core", "gateway", "operator") or not path:
            parser.error(f"--scrape {item}: want core=FILE, gateway=FILE or operator=FILE")
        with open(path, encoding="utf-8") as f:
            scrapes[component] = parse_scrape(f.read())
    with open(args.rules, encoding="utf-8") as f:
        rules_text = f.read()
    with open(args.docs, encoding="utf-8") as f:
        docs_text = f.read()
    checked, errors = check(rules_text, docs_text, scrapes)
    for e in errors:
        print("live-metrics: " + e, file=sys.stderr)
    if checked == 0:
        print("live-metrics: no alert reads a metric of " + ", ".join(scrapes), file=sys.stderr)
        return 1
    if errors:
        print(f"live-metrics: {len(errors)} problems", file=sys.stderr)
        return 1
    print(f"live-metrics: {checked} selectors of the alert rules found in the scrapes of "
          + ", ".join(sorted(scrapes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
