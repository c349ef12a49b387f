#!/usr/bin/env python3
"""Checks the launchd plists: well-formed XML with the Apple plist DOCTYPE, loadable by
plistlib, and carrying the keys boxmon relies on. (The Apple DTD is not in Debian; the keys and
types it allows for these files are checked here instead.) Exits 1 naming each problem."""
import os
import plistlib
import sys
import xml.dom.minidom

REQUIRED = {
    "org.boxmon.agent.plist": {"Label": str, "ProgramArguments": list, "KeepAlive": bool,
                               "StandardOutPath": str, "StandardErrorPath": str, "UserName": str},
    "org.boxmon.sample.plist": {"Label": str, "ProgramArguments": list, "StartInterval": int,
                                "StandardOutPath": str, "StandardErrorPath": str, "UserName": str},
}


def main(folder):
    problems = []
    for name, keys in REQUIRED.items():
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                raw = f.read()
            doc = xml.dom.minidom.parseString(raw)
            if doc.doctype is None or doc.doctype.publicId != "-//Apple//DTD PLIST 1.0//EN":
                problems.append(f"{path}: the DOCTYPE is not Apple's plist 1.0 DTD")
            data = plistlib.loads(raw)
        except Exception as e:  # noqa: BLE001 - every parse failure is a finding
            problems.append(f"{path}: does not parse: {e}")
            continue
        for key, typ in keys.items():
            if key not in data:
                problems.append(f"{path}: missing key {key}")
            elif not isinstance(data[key], typ):
                problems.append(f"{path}: {key} should be a {typ.__name__}")
        if data.get("Label") + ".plist" != name:
            problems.append(f"{path}: Label {data.get('Label')} does not match the file name")
        for p in (data.get("StandardOutPath", ""), data.get("StandardErrorPath", "")):
            if not p.startswith("/Library/Logs/boxmon/"):
                problems.append(f"{path}: logs should go under /Library/Logs/boxmon, not {p}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
