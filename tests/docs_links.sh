#!/usr/bin/env bash
# Every relative link in the user documentation points to a file that exists and, with a
# `#anchor`, to a heading of that file (anchors made as GitHub makes them: lower case,
# punctuation dropped, spaces as dashes, "-1", "-2", ... for repeats). Links to http(s) pages
# are not followed. Needs python3; touches nothing.
#
# Usage: tests/docs_links.sh [FILE.md ...]   (from anywhere; default: README.md, docs/*.md,
#                                             deploy/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# == 0)); then
    set -- README.md docs/*.md deploy/README.md
fi
python3 - "$@" <<'EOF'
import os, re, sys

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)

def prose(text):
    """The text outside fenced code blocks and inline code spans."""
    return re.sub(r"`[^`]*`", "", FENCE.sub("", text))

def anchors(path):
    seen, found = {}, set()
    for line in FENCE.sub("", open(path, encoding="utf-8").read()).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))  # a link: its text
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found

broken = []
for source in sys.argv[1:]:
    text = prose(open(source, encoding="utf-8").read())
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), path)) if path else source
        if not os.path.exists(resolved):
            broken.append(f"{source}: ({target}): no file {resolved}")
        elif anchor and (os.path.isdir(resolved) or anchor not in anchors(resolved)):
            broken.append(f"{source}: ({target}): no heading #{anchor} in {resolved}")
for line in broken:
    print(line)
print(f"docs links: {len(broken)} broken in {len(sys.argv) - 1} files")
sys.exit(1 if broken else 0)
EOF
