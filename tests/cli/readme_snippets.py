#!/usr/bin/python3
"""The README as a new user reads it: every C block of "A tour of the API" and "Writing a
callback" is a verbatim part of examples/readme_tour.c (between its "readme: NAME" markers), which
must build (CMake does) and run; every relative link and every repository path the README quotes
exists; nothing points outside the repository (spec/, ../shared/).
Usage: readme_snippets.py SOURCE_DIR READ_ME_TOUR_BINARY"""
import os
import re
import subprocess
import sys
import textwrap

src, binary = sys.argv[1], sys.argv[2]
readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
example = open(os.path.join(src, "examples/readme_tour.c"), encoding="utf-8").read()
failures = []


def section(title):
    start = readme.index(title)
    nxt = re.search(r"^##+ ", readme[start + len(title):], re.M)
    return readme[start:start + len(title) + (nxt.start() if nxt else len(readme))]


regions = [textwrap.dedent(m.group(1)) for m in
           re.finditer(r"^[ \t]*/\* readme: \w+ \*/\n(.*?)^[ \t]*/\* readme: end \*/\n", example, re.S | re.M)]
for title in ("## A tour of the API", "### Writing a callback"):
    blocks = re.findall(r"```c\n(.*?)```\n", section(title), re.S)
    if not blocks:
        failures.append(f"{title}: no C block")
    for b in blocks:
        if b not in regions:
            failures.append(f"{title}: a C block is not a marked region of examples/readme_tour.c:\n{b[:300]}")

for link in re.findall(r"\]\(([^)#\s]+)\)", readme):
    if not re.match(r"[a-z]+://", link) and not os.path.exists(os.path.join(src, link)):
        failures.append(f"link to a missing file: {link}")
for path in set(re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:md|c|h|sh|py|cmake))`", readme)):
    if not path.startswith("kcb/") and not os.path.exists(os.path.join(src, path)):
        failures.append(f"quoted path missing: {path}")
    if path.startswith("kcb/") and not os.path.exists(os.path.join(src, "lib/include", path)):
        failures.append(f"quoted header missing: {path}")
for outside in re.findall(r"(?:\.\./shared/|`spec/)[\w./-]*", readme):
    failures.append(f"points outside the repository: {outside}")

if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    run = subprocess.run([binary], capture_output=True, text=True)
    if run.returncode != 0 or run.stderr:
        failures.append(f"readme_tour failed ({run.returncode}): {run.stderr[-300:]}")
    elif not re.search(r"^Epoch 1/5$", run.stdout, re.M) or \
            not re.search(r"^test loss [0-9.]+, accuracy 0\.[0-9]{4} \(best training loss [0-9.]+\)$", run.stdout, re.M):
        failures.append(f"readme_tour printed something else:\n{run.stdout[-400:]}")

for f in failures:
    print("FAIL " + f)
print(f"readme_snippets: {len(failures)} failed")
sys.exit(1 if failures else 0)
