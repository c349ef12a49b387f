#!/usr/bin/env python3
"""Checks boxmon's layering (DESIGN §2): each folder includes only itself and the folders
below it; another folder's detail/ headers are private; no "/proc" or "/sys" literal outside
core/fs (STYLE rule 4). Exits 1 listing every violation as file:line: what; what to do."""

import os
import re
import sys
import tempfile

ALLOWED = {
    "core": set(),
    "net": {"core"},
    "collector": {"core", "net"},
    "alerting": {"core", "net"},
    "store": {"core"},
    "rules": {"core"},
    "report": {"core"},
    "agent": {"core", "net", "collector", "alerting", "store", "rules", "report"},
    "cli": {"core", "net", "collector", "alerting", "store", "rules", "report", "agent"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
PSEUDO_FS = re.compile(r'"/(proc|sys)(/|")')
SOURCE_EXT = (".cpp", ".hpp", ".h", ".cc", ".mm")
# Files allowed to name the kernel's pseudo filesystems: the one place RootFs lives.
PSEUDO_FS_OWNERS = {os.path.join("core", "fs.cpp")}


def check(root):
    problems = []
    for folder, allowed in ALLOWED.items():
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m:
                            target = m.group(1)
                            top = target.split("/", 1)[0]
                            if top in ALLOWED and top != folder:
                                if top not in allowed:
                                    problems.append(
                                        f"{rel}:{lineno}: {folder}/ includes \"{target}\" but may only use "
                                        f"{sorted(allowed) or 'nothing'}; move the shared part down to core/ "
                                        f"or pass it through an interface")
                                elif "/detail/" in target:
                                    problems.append(
                                        f"{rel}:{lineno}: \"{target}\" is private to {top}/; use its public header")
                        elif PSEUDO_FS.search(line) and rel not in PSEUDO_FS_OWNERS \
                                and not line.lstrip().startswith("//"):
                            problems.append(
                                f"{rel}:{lineno}: literal /proc or /sys path; build it from RootFs "
                                f"(core/fs.hpp) so fixture trees can replace it")
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        def write(rel, text):
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(text)
        write("core/ok.hpp", '#include "core/other.hpp"\n')
        write("store/ok.cpp", '#include "core/result.hpp"\n')
        write("store/bad.cpp", '#include "rules/engine.hpp"\n')
        write("rules/peek.cpp", '#include "core/detail/toml_reader.hpp"\n')
        write("core/upward.cpp", '#include "agent/agent.hpp"\n')
        write("collector/proc.cpp", 'auto p = "/proc/stat";\n')
        problems = check(tmp)
        expected = ["store/bad.cpp:1", "rules/peek.cpp:1", "core/upward.cpp:1", "collector/proc.cpp:1"]
        missing = [e for e in expected if not any(p.startswith(e) for p in problems)]
        if missing or len(problems) != len(expected):
            print("self-test failed; expected violations at", expected, "got:", *problems, sep="\n  ")
            return 1
        print(f"self-test ok: {len(problems)} planted violations detected")
        return 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) != 2:
        print("usage: check_includes.py SOURCE_DIR | --self-test", file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering violation(s)")
        return 1
    print("layering ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
