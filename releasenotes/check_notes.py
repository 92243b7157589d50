#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check that every release note is valid and shows up in reno's report.

Usage: check_notes.py RENO SOURCE_ROOT

reno reads notes from git history, not from the work tree: a note that is
not committed (or has uncommitted edits) would silently be missing from
the release-notes document, so that fails here with a message saying so.
Exit 77 (meson's "skipped") when SOURCE_ROOT is not a git checkout.
"""

import glob
import os
import subprocess
import sys


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def note_texts(path):
    """Yield (section, first words of each item) if PyYAML is importable."""
    try:
        import yaml  # reno depends on it, but this interpreter may lack it
    except ImportError:
        return
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    for section, value in data.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            words = " ".join(str(item).split()[:6])
            if words:
                yield section, words


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    reno, root = sys.argv[1], sys.argv[2]

    if run(["git", "-C", root, "rev-parse", "--is-inside-work-tree"]).returncode != 0:
        print("release-notes: %s is not a git checkout: reno has no history to read" % root)
        return 77

    notes = sorted(glob.glob(os.path.join(root, "releasenotes", "notes", "*.yaml")))
    if not notes:
        print("release-notes: no note in releasenotes/notes")
        return 1

    errors = []
    lint = run([reno, "-q", "lint", root])
    if lint.returncode != 0:
        errors.append("reno lint failed: %s" % (lint.stdout + lint.stderr).strip())

    report = run([reno, "-q", "report", root])
    if report.returncode != 0:
        errors.append("reno report failed: %s" % report.stderr.strip())
    # reno keeps line breaks of the notes; compare on single spaces.
    text = " ".join(report.stdout.split())

    for path in notes:
        rel = os.path.relpath(path, root)
        tracked = run(["git", "-C", root, "ls-files", "--error-unmatch", "--", rel])
        if tracked.returncode != 0:
            errors.append("%s is not committed: reno reads notes from git history" % rel)
            continue
        if run(["git", "-C", root, "diff", "--quiet", "HEAD", "--", rel]).returncode != 0:
            errors.append("%s has uncommitted changes: reno reports the committed text" % rel)
        if (rel + " @") not in report.stdout:
            errors.append("%s is missing from reno's report" % rel)
            continue
        for section, words in note_texts(path):
            if words not in text:
                errors.append("%s: %s text '%s' is missing from reno's report"
                              % (rel, section, words))

    for e in errors:
        print("release-notes: " + e)
    if errors:
        return 1
    print("release-notes: %d notes linted and present in the report" % len(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
