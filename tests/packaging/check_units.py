#!/usr/bin/env python3
"""The systemd units verify and stay hardened (RELIABILITY X7), offline (systemd need not be PID 1):

    check_units.py UNIT_DIR BOXMON_BINARY MAN_DIR...

- `systemd-analyze verify` of boxmon.service, boxmon-sample.service and boxmon-sample.timer says
  nothing at all (it exits 0 even on unknown keys, so any output is a failure). The units name
  /usr/bin/boxmon, which need not exist here: a copy of each with that path replaced by
  BOXMON_BINARY is verified. Documentation=man: pages are looked up in the MAN_DIRs (man1/,
  man5/ trees or flat folders of boxmon.1[.gz], boxmon.toml.5[.gz]); without man(1) that part is
  skipped, saying so.
- `systemd-analyze security --offline=true` rates both services at exposure 2.0 or less
  (--threshold=20: the scale is tenths).
Exits 1 naming each problem, 77 (skipped) when systemd-analyze is missing."""
import os
import shutil
import subprocess
import sys
import tempfile

UNITS = ["boxmon.service", "boxmon-sample.service", "boxmon-sample.timer"]
SERVICES = ["boxmon.service", "boxmon-sample.service"]
EXPOSURE_MAX_TENTHS = 20


def man_tree(tmp, man_dirs):
    """A man1/ man5/ tree holding the pages found in man_dirs."""
    root = os.path.join(tmp, "man")
    for d in man_dirs:
        for dirpath, _, files in os.walk(d):
            for name in files:
                base = name[:-3] if name.endswith(".gz") else name
                section = base.rsplit(".", 1)[-1]
                if base.startswith("boxmon") and section.isdigit():
                    os.makedirs(os.path.join(root, "man" + section), exist_ok=True)
                    dest = os.path.join(root, "man" + section, name)
                    if not os.path.exists(dest):
                        shutil.copy(os.path.join(dirpath, name), dest)
    return root


def check(unit_dir, binary, man_dirs):
    problems = []
    analyze = shutil.which("systemd-analyze")
    with tempfile.TemporaryDirectory() as tmp:
        staged = os.path.join(tmp, "units")
        os.makedirs(staged)
        for unit in UNITS:
            with open(os.path.join(unit_dir, unit), encoding="utf-8") as f:
                text = f.read()
            with open(os.path.join(staged, unit), "w", encoding="utf-8") as f:
                f.write(text.replace("/usr/bin/boxmon", os.path.abspath(binary)))
        env = dict(os.environ)
        args = [analyze, "verify"]
        if shutil.which("man"):
            env["MANPATH"] = man_tree(tmp, man_dirs)
        else:
            print("note: no man(1) here; the units' Documentation= pages are not checked")
            args.append("--man=no")
        r = subprocess.run(args + [os.path.join(staged, u) for u in UNITS], capture_output=True, text=True,
                           env=env, check=False)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or said:
            problems.append(f"systemd-analyze verify (exit {r.returncode}):\n{said}")
        for unit in SERVICES:
            r = subprocess.run([analyze, "security", "--offline=true", f"--threshold={EXPOSURE_MAX_TENTHS}",
                                os.path.join(staged, unit)], capture_output=True, text=True, check=False)
            overall = [l for l in r.stdout.splitlines() if "Overall exposure level" in l]
            if r.returncode != 0:
                problems.append(f"{unit}: exposure above {EXPOSURE_MAX_TENTHS / 10}: "
                                f"{overall[0].strip() if overall else r.stdout[-500:] + r.stderr}")
            elif overall:
                print(overall[0].strip("→ ").strip())
    return problems


def main():
    if not shutil.which("systemd-analyze"):
        print("skipped: systemd-analyze is not installed (Debian package systemd)")
        return 77
    problems = check(sys.argv[1], sys.argv[2], sys.argv[3:])
    for p in problems:
        print(p)
    if not problems:
        print("units verify without a word; both services within exposure 2.0")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
