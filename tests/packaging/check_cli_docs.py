#!/usr/bin/env python3
"""The man page boxmon(1) and the bash and zsh completions name every subcommand (and every
nested one) that `boxmon --help` lists, so they cannot fall behind the code:

    check_cli_docs.py BOXMON_BINARY SOURCE_DIR

Exits 1 naming each subcommand a document misses."""
import os
import re
import subprocess
import sys


def subcommands(binary, path=()):
    out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=False).stdout
    names = []
    in_section = False
    for line in out.splitlines():
        if line.startswith("Subcommands:"):
            in_section = True
            continue
        if in_section:
            m = re.match(r"^  ([a-z][a-z-]*)\s", line)
            if m:
                names.append(m.group(1))
            elif line.strip() == "":
                break
    found = []
    for n in names:
        found.append((*path, n))
        found.extend(subcommands(binary, (*path, n)))
    return found


def main():
    binary, source = sys.argv[1], sys.argv[2]
    commands = subcommands(binary)
    if len(commands) < 10:
        print(f"only {len(commands)} subcommands found in `boxmon --help`; the parser needs fixing")
        return 1
    docs = {
        "packaging/man/boxmon.1": None,
        "packaging/completions/boxmon.bash": None,
        "packaging/completions/_boxmon": None,
    }
    problems = []
    for rel in docs:
        with open(os.path.join(source, rel), encoding="utf-8") as f:
            text = f.read()
        for cmd in commands:
            if rel.endswith(".1"):
                ok = re.search(r"^\.B " + re.escape(" ".join(cmd)) + r"\b", text, re.M) is not None
            else:
                ok = re.search(r"\b" + re.escape(cmd[-1]) + r"\b", text) is not None
            if not ok:
                problems.append(f"{rel}: does not document `boxmon {' '.join(cmd)}`")
    for p in problems:
        print(p)
    print(f"{len(commands)} subcommands checked against {len(docs)} documents")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
