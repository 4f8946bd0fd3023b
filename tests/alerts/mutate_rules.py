#!/usr/bin/env python3
"""Mutation run over the alert rules: every threshold and every `for:` moved by one step
must make `promtool test rules` fail. A mutant that passes is a rule whose tests would not
notice that change, and is reported with the line it changed.

One step: a `for:` duration one evaluation interval (1m) longer or shorter; a number
compared against (after ==, !=, >, <, >=, <=) one unit of its last written digit up or
down (5 -> 4 and 6; 0.05 -> 0.04 and 0.06; 14 in `< 14 * 86400` -> 13 and 15).

Usage: mutate_rules.py PROMTOOL ALERTS_DIR
Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

DURATION = re.compile(r"^(\s*for:\s*)(\d+)([smhd])\s*$")
THRESHOLD = re.compile(r"(==|!=|>=|<=|>|<)(\s*)(-?\d+(?:\.\d+)?)")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def minutes(text):
    """A duration in whole minutes as promtool reads it (`6m`, `61m`, `0m`)."""
    return f"{text}m"


def duration_mutants(line):
    m = DURATION.match(line)
    if not m:
        return []
    seconds = int(m.group(2)) * UNIT_SECONDS[m.group(3)]
    out = []
    for delta in (-60, 60):
        moved = seconds + delta
        if moved < 0:
            continue
        out.append((f"for: {m.group(2)}{m.group(3)} -> {moved // 60}m",
                    f"{m.group(1)}{minutes(moved // 60)}\n"))
    return out


def step_of(number):
    """One unit of the last written digit: 1 for 14, 0.01 for 0.05."""
    if "." in number:
        return Decimal(1).scaleb(-len(number.split(".")[1]))
    return Decimal(1)


def threshold_mutants(line):
    out = []
    for m in THRESHOLD.finditer(line):
        value = Decimal(m.group(3))
        step = step_of(m.group(3))
        for moved in (value - step, value + step):
            text = format(moved.normalize(), "f") if moved != 0 else "0"
            mutated = line[: m.start(3)] + text + line[m.end(3):]
            out.append((f"`{m.group(0).strip()}` -> `{m.group(1)} {text}`", mutated))
    return out


def alerts_and_mutants(lines):
    """[(alert, line number, description, mutated text)] over the whole rules file."""
    out = []
    alert = None
    in_expr = False
    for i, line in enumerate(lines):
        m = re.match(r"^\s*- alert: (\S+)", line)
        if m:
            alert, in_expr = m.group(1), False
            continue
        if alert is None:
            continue
        if re.match(r"^\s*expr:", line):
            in_expr = True
            body = line.split("expr:", 1)[1]
            if body.strip() not in ("|", ">", "|-", ">-"):
                for desc, mutated in threshold_mutants(line):
                    out.append((alert, i, desc, mutated))
            continue
        if re.match(r"^\s*(for|labels|annotations|keep_firing_for):", line):
            in_expr = False
        if in_expr:
            if line.lstrip().startswith("#"):
                continue
            for desc, mutated in threshold_mutants(line):
                out.append((alert, i, desc, mutated))
        for desc, mutated in duration_mutants(line):
            out.append((alert, i, desc, mutated))
    return out


def main():
    promtool, alerts_dir = sys.argv[1], sys.argv[2]
    rules_path = os.path.join(alerts_dir, "holomush.rules.yaml")
    with open(rules_path) as f:
        lines = f.readlines()
    tests_dir = os.path.join(alerts_dir, "tests")
    test_files = sorted(os.listdir(tests_dir))
    texts = {name: open(os.path.join(tests_dir, name)).read() for name in test_files}
    mutants = alerts_and_mutants(lines)
    if len(mutants) < 20:
        print(f"only {len(mutants)} mutants found: the rules file was not read as expected")
        return 1
    def judge(mutant):
        """None when promtool fails on the mutant (caught), else why it survived."""
        alert, index, desc, mutated = mutant
        # The test files that judge this alert (the ones naming it).
        judges = [n for n in test_files if re.search(rf"alertname:\s*{alert}\b", texts[n])]
        if not judges:
            return f"{alert} (line {index + 1}): no test file names it"
        with tempfile.TemporaryDirectory(prefix="holomush-mutant-") as work:
            shutil.copytree(tests_dir, os.path.join(work, "tests"))
            with open(os.path.join(work, "holomush.rules.yaml"), "w") as f:
                f.writelines(lines[:index] + [mutated] + lines[index + 1:])
            run = subprocess.run([promtool, "test", "rules"] + judges,
                                 cwd=os.path.join(work, "tests"), capture_output=True, text=True)
        if run.returncode == 0:
            return f"{alert} (line {index + 1}): {desc} passes {', '.join(judges)}"
        return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        survivors = [s for s in pool.map(judge, mutants) if s]
    print(f"{len(mutants)} mutants of {rules_path}, {len(survivors)} survived")
    for s in survivors:
        print("  survived:", s)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
