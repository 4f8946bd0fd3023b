#!/usr/bin/env python3
"""Core and gateway meet only in core.proto: no translation unit of one is compiled with
the other's include directories (which a link to its library would bring), and no source
file of either reaches into the other by a relative path.

usage: boundaries.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import re
import shlex
import sys

COMPONENTS = ("core", "gateway")


def include_dirs(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    dirs = []
    for i, arg in enumerate(args):
        for flag in ("-I", "-isystem", "-iquote"):
            if arg == flag and i + 1 < len(args):
                dirs.append(args[i + 1])
            elif arg.startswith(flag) and len(arg) > len(flag):
                dirs.append(arg[len(flag):])
    return [os.path.normpath(os.path.join(entry["directory"], d)) for d in dirs]


def under(path, root):
    return path == root or path.startswith(root + os.sep)


def main():
    source, build = (os.path.realpath(p) for p in sys.argv[1:3])
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    problems = []
    checked = {c: 0 for c in COMPONENTS}
    for entry in entries:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        for mine in COMPONENTS:
            if not under(path, os.path.join(source, mine)):
                continue
            checked[mine] += 1
            other = [c for c in COMPONENTS if c != mine][0]
            forbidden = [os.path.join(source, other), os.path.join(build, other)]
            for d in include_dirs(entry):
                if any(under(d, root) for root in forbidden):
                    problems.append(f"{os.path.relpath(path, source)} is compiled with -I {d}")
    for mine in COMPONENTS:
        if checked[mine] < 5:
            problems.append(f"only {checked[mine]} translation units of {mine}/ were found")
    include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
    for mine in COMPONENTS:
        for root, _, files in os.walk(os.path.join(source, mine)):
            for name in files:
                if not name.endswith((".cpp", ".hpp", ".h", ".cc")):
                    continue
                file = os.path.join(root, name)
                with open(file, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = include.match(line)
                        if m and ".." in m.group(1).split("/"):
                            problems.append(f"{os.path.relpath(file, source)}:{n} includes {m.group(1)}")
    for p in problems:
        print("boundary crossed:", p)
    print(f"checked {checked['core']} core and {checked['gateway']} gateway translation units")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
