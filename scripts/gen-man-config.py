#!/usr/bin/env python3
"""Generates boxmon.toml(5) from docs/CONFIG.md, the one description of the configuration:

    gen-man-config.py docs/CONFIG.md OUT.5 VERSION

Headings become sections, key tables become tagged paragraphs, prose becomes paragraphs.
Only the Markdown that CONFIG.md uses is understood: #/## headings, | tables |, - lists, `code`,
**bold**, fenced blocks."""
import re
import sys


def roff_escape(text):
    text = text.replace("\\", "\\e")
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = text.replace("—", "\\(em")
    return text


def line_start(text):
    # A roff line must not start with a dot or an apostrophe.
    return "\\&" + text if text[:1] in (".", "'") else text


def convert(md, version):
    out = [f'.TH BOXMON.TOML 5 "" "boxmon {version}" "File Formats"',
           ".SH NAME", "boxmon.toml \\- configuration of the boxmon monitoring agent"]
    in_code = False
    for raw in md.splitlines():
        line = raw.rstrip()
        if line.startswith("```"):
            out.append(".EE" if in_code else ".EX")
            in_code = not in_code
            continue
        if in_code:
            out.append(line_start(line.replace("\\", "\\e")))
            continue
        if line.startswith("# "):
            out.append(".SH DESCRIPTION")
            continue
        if line.startswith("## "):
            out.append(".SH " + roff_escape(line[3:]).upper())
            continue
        if line.startswith("### "):
            out.append(".SS " + roff_escape(line[4:]))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells) or cells[0] in ("key", "name"):
                continue
            key = roff_escape(cells[0])
            rest = cells[1:]
            out.append(".TP")
            out.append(line_start(key + (f" (default: {roff_escape(rest[0])})" if len(rest) > 1 else "")))
            out.append(line_start(roff_escape(rest[-1] if rest else "")))
            continue
        if re.match(r"^\s*(-|\d+\.)\s", line):
            out.append(".IP \\(bu 2")
            out.append(line_start(roff_escape(re.sub(r"^\s*(-|\d+\.)\s+", "", line))))
            continue
        if not line.strip():
            out.append(".PP")
            continue
        out.append(line_start(roff_escape(line.strip())))
    out += [".SH SEE ALSO", "boxmon(1)"]
    return "\n".join(out) + "\n"


def main():
    src, dest, version = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(src, encoding="utf-8") as f:
        md = f.read()
    with open(dest, "w", encoding="utf-8") as f:
        f.write(convert(md, version))


if __name__ == "__main__":
    main()
