#!/usr/bin/env python3
"""The configuration file the package installs as /etc/boxmon/boxmon.toml is the built-in
defaults, commented out:

    check_default_config.py BOXMON_BINARY SOURCE_DIR

- as shipped it passes `boxmon config check` without a warning;
- with every setting line ("#key = value", no space after the "#") uncommented, `boxmon config
  show` prints exactly what it prints for an empty file: each value shown is the default;
- every key docs/CONFIG.md lists for the file's plain tables is named in that table's part of
  the file, so a new key cannot be forgotten here.
Exits 1 naming each problem."""
import os
import re
import subprocess
import sys
import tempfile

SETTING = re.compile(r"^#([a-z0-9_]+) = ")
TABLE = re.compile(r"^\[([a-z_]+)\]$")
# Tables the file carries as plain tables; the others ([[channels]], [[rules]], [[services]]) as
# examples in comments.
PLAIN = ["general", "collectors", "gpu", "storage", "logs", "alerting", "rule_defaults", "report", "http",
         "heartbeat"]
# docs/CONFIG.md describes [logs] entries' keys (path, journal, lines), which belong to the
# examples, not to settings of the table.
EXAMPLE_ONLY = {"logs"}


def run(binary, config, *args):
    return subprocess.run([binary, "--config", config, "--state-dir", "/var/lib/boxmon", *args],
                          capture_output=True, text=True, check=False)


def documented_keys(source):
    keys, current = {}, None
    with open(os.path.join(source, "docs", "CONFIG.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^## \[([a-z_.]+)\]\s*$", line)
            if m:
                current = m.group(1)
                keys.setdefault(current, [])
                continue
            m = re.match(r"^\| `([a-z0-9_]+)` \|", line)
            if m and current:
                keys[current].append(m.group(1))
    return keys


def file_sections(text):
    sections, current = {}, None
    for line in text.splitlines():
        m = TABLE.match(line)
        if m:
            current = m.group(1)
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


def main():
    binary, source = sys.argv[1], sys.argv[2]
    path = os.path.join(source, "packaging", "boxmon.toml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, content):
            p = os.path.join(tmp, name)
            with open(p, "w", encoding="utf-8") as out:
                out.write(content)
            os.chmod(p, 0o640)
            return p

        shipped = write("boxmon.toml", text)
        r = run(binary, shipped, "config", "check")
        if r.returncode != 0 or r.stderr.strip():
            problems.append(f"`config check` of the shipped file: exit {r.returncode}\n{r.stdout}{r.stderr}")

        settings = [SETTING.match(l).group(1) for l in text.splitlines() if SETTING.match(l)]
        if len(settings) < 40:
            problems.append(f"only {len(settings)} \"#key = value\" setting lines; the parser or the file is wrong")
        uncommented = write("uncommented.toml", "\n".join(
            l[1:] if SETTING.match(l) else l for l in text.splitlines()) + "\n")
        empty = write("empty.toml", "")

        def show(p):
            r = run(binary, p, "config", "show")
            if r.returncode != 0:
                problems.append(f"`config show` of {os.path.basename(p)}: exit {r.returncode}\n{r.stderr}")
            # The first line names the file.
            return r.stdout.split("\n", 1)[-1]

        got, want = show(uncommented), show(empty)
        if got != want:
            import difflib
            diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                "defaults", "packaging/boxmon.toml uncommented"))
            problems.append("uncommented, the file is not the built-in defaults:\n" + diff)

    sections = file_sections(text)
    docs = documented_keys(source)
    for table in PLAIN:
        if table not in sections:
            problems.append(f"packaging/boxmon.toml has no [{table}] table")
            continue
        if table in EXAMPLE_ONLY:
            continue
        for key in docs.get(f"[{table}]", []):
            if not re.search(rf"(^|[#\s]){re.escape(key)}\b", sections[table], re.M):
                problems.append(f"packaging/boxmon.toml: [{table}] does not name \"{key}\" (docs/CONFIG.md lists it); "
                                f"add \"#{key} = <default>\" or a comment saying what its default is")
    for p in problems:
        print(p)
    if not problems:
        print(f"packaging/boxmon.toml: {len(settings)} settings, all at their defaults; every documented key named")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
