#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""libnvirt.so exports exactly what src/libnvirt.syms lists, versioned.

Usage: check_symbols.py NM OBJDUMP LIBRARY SYMS

Checks the soname (libnvirt.so.0), then compares `nm -D --defined-only
--with-symbol-versions` with the version script: every listed symbol is
exported with the default version (@@) of the node it is listed in, nothing
else is exported (the node names themselves appear as absolute symbols),
and every exported name starts with nv_.
"""

import re
import subprocess
import sys

SONAME = "libnvirt.so.0"


def read_syms(path):
    """Return {symbol: node} for the global: entries of a version script."""
    text = re.sub(r"#.*", "", open(path, encoding="utf-8").read())
    symbols = {}
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}", text, re.S):
        listed = body.split("local:")[0].replace("global:", "")
        for name in listed.split(";"):
            name = name.strip()
            if not name:
                continue
            if name in symbols or "*" in name:
                sys.exit("check_symbols: %s: %s listed twice or as a pattern" % (path, name))
            symbols[name] = node
    if not symbols:
        sys.exit("check_symbols: no global symbols found in %s" % path)
    return symbols


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    nm, objdump, library, syms = sys.argv[1:]
    errors = []

    dynamic = subprocess.run([objdump, "-p", library], check=True, capture_output=True,
                             text=True).stdout
    soname = re.search(r"^\s*SONAME\s+(\S+)", dynamic, re.M)
    if not soname or soname.group(1) != SONAME:
        errors.append("soname is %s, want %s" % (soname.group(1) if soname else "missing", SONAME))

    expected = read_syms(syms)
    nodes = set(expected.values())
    out = subprocess.run([nm, "-D", "--defined-only", "--with-symbol-versions", library],
                         check=True, capture_output=True, text=True).stdout
    exported = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        kind, name = fields[1], fields[2]
        if kind == "A" and name in nodes:
            continue
        symbol, _, version = name.partition("@")
        exported[symbol] = version
        if not symbol.startswith("nv_"):
            errors.append("exported symbol %s is not nv_*" % name)

    for symbol, node in sorted(expected.items()):
        if symbol not in exported:
            errors.append("%s (node %s) is not exported" % (symbol, node))
        elif exported[symbol] != "@" + node:
            errors.append("%s has version '%s', want @@%s" % (symbol, exported[symbol], node))
    for symbol in sorted(set(exported) - set(expected)):
        errors.append("%s is exported but not listed in %s" % (symbol, syms))

    for symbol in sorted(exported):
        print("%s@%s" % (symbol, exported[symbol]))
    if errors:
        for e in errors:
            print("check_symbols: " + e, file=sys.stderr)
        sys.exit(1)
    print("check_symbols: %d symbols, all listed, all versioned, soname %s" % (len(exported), SONAME))


if __name__ == "__main__":
    main()
