#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Differential suite: nvirt against Nova's own code, case by case.

    oracle.py --nvirt BUILD/src/cli/nvirt [--cases DIR] [--differences FILE]
              [--show] [CASE...]

Each case (tests/nova/cases/*.json, a list of objects) is run through
Nova 26 + os-brick 6.1 (nova_side.py, host mocked) and through
`nvirt disk-xml --json`.  Compared: the decision (native, encryptor, none,
refused), the os-brick encryptor class, the secret's usage id, the
canonicalised <disk> XML, and the key size and cipher a first-use format
or an encryptor would get.  differences.md lists the cases where nvirt
differs on purpose and in which fields; such a case passes only if it
differs in exactly those fields, so a fixed difference cannot linger in
the table.  Every other case must match.

Must run under Debian's /usr/bin/python3, where python3-nova lives.  Exit
77 (meson's "skipped") when Nova cannot be imported, 1 on any failure.
The last line is criterion's Synthesis line, so scripts/test-summary
counts cases, not one test.
"""

import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ("decision", "encryptor", "secret_usage", "disk_xml", "key_size",
          "cipher")


def load_cases(case_dir, names):
    cases = []
    for path in sorted(glob.glob(os.path.join(case_dir, "*.json"))):
        with open(path) as f:
            for case in json.load(f):
                case["_file"] = os.path.basename(path)
                cases.append(case)
    seen = set()
    for case in cases:
        if case["name"] in seen:
            sys.exit("oracle: duplicate case name %s" % case["name"])
        seen.add(case["name"])
    if names:
        cases = [c for c in cases if c["name"] in names]
    return cases


ROW = re.compile(r"^\|\s*`?([A-Za-z0-9_.-]+)`?\s*\|\s*([a-z_, ]+?)\s*\|(.*)\|\s*$")


def load_differences(path):
    """{case: set(fields)} from the table rows of differences.md, and the
    set of cases whose reason starts "PENDING" (gaps, not choices)."""
    table = {}
    pending = set()
    with open(path) as f:
        for line in f:
            m = ROW.match(line)
            if not m or m.group(1) == "case":
                continue
            fields = {x.strip() for x in m.group(2).split(",")}
            unknown = fields - set(FIELDS)
            if unknown:
                sys.exit("oracle: %s: unknown field(s) %s for %s"
                         % (path, ", ".join(sorted(unknown)), m.group(1)))
            if not m.group(3).strip():
                sys.exit("oracle: %s: %s has no reason" % (path, m.group(1)))
            table[m.group(1)] = fields
            if m.group(3).strip().startswith("PENDING"):
                pending.add(m.group(1))
    return table, pending


def write_conf(path, conf, state_path):
    sections = {"DEFAULT": {"state_path": state_path}}
    for group, opts in conf.items():
        sections.setdefault(group, {}).update(opts)
    with open(path, "w") as f:
        for group, opts in sections.items():
            f.write("[%s]\n" % group)
            for name, value in opts.items():
                if isinstance(value, bool):
                    value = "true" if value else "false"
                f.write("%s = %s\n" % (name, value))


def nvirt_attach(nvirt, case, tmp, nova_side):
    record = dict.fromkeys(FIELDS)
    record["error"] = None
    ci = os.path.join(tmp, "connection_info.json")
    conf = os.path.join(tmp, "nvirt.conf")
    with open(ci, "w") as f:
        json.dump(case["connection_info"], f)
    write_conf(conf, case.get("conf", {}), nova_side.STATE_PATH)
    argv = [nvirt, "disk-xml", "--json", "--config", conf,
            "--connection-info", ci, "--mountpoint", case["mountpoint"],
            "--secret-uuid", nova_side.SECRET_UUID]
    if "encryption" in case:
        enc = os.path.join(tmp, "encryption.json")
        with open(enc, "w") as f:
            json.dump(case["encryption"], f)
        argv += ["--encryption", enc]
    if case.get("disk_bus"):
        argv += ["--disk-bus", case["disk_bus"]]
    versions = case.get("versions", {})
    if "libvirt" in versions:
        argv += ["--libvirt-version", versions["libvirt"]]
    if "qemu" in versions:
        argv += ["--qemu-version", versions["qemu"]]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        record["decision"] = "refused"
        record["error"] = lines[-1] if lines else "exit %d" % proc.returncode
        return record
    out = json.loads(proc.stdout)
    record["decision"] = out["encryption_path"]
    for key in ("encryptor", "secret_usage", "disk_xml", "key_size", "cipher"):
        record[key] = out[key]
    return record


NVIRT_OPERATIONS = {"attach": nvirt_attach}


def canonical_xml(text):
    from lxml import etree

    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(text.encode(), parser),
                          method="c14n").decode()


def normalise_key_size(value):
    """os-brick hands key_size to cryptsetup as given: "256" == 256."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def differing_fields(case, nova, nvirt):
    diff = set()
    if nova["decision"] != nvirt["decision"]:
        diff.add("decision")
    if "refused" in (nova["decision"], nvirt["decision"]):
        return diff
    for key in ("encryptor", "secret_usage"):
        if nova[key] != nvirt[key]:
            diff.add(key)
    if canonical_xml(nova["disk_xml"]) != canonical_xml(nvirt["disk_xml"]):
        diff.add("disk_xml")
    # Nova only uses key_size and cipher when it formats a blank volume
    # for QEMU or hands them to an encryptor.
    nova_uses = (nova["decision"] == "encryptor"
                 or (nova["decision"] == "native"
                     and case.get("volume", "luks") == "blank"))
    if nova_uses and nova["decision"] == nvirt["decision"]:
        if normalise_key_size(nova["key_size"]) != nvirt["key_size"]:
            diff.add("key_size")
        if nova["cipher"] != nvirt["cipher"]:
            diff.add("cipher")
    return diff


def show(label, record):
    print("    %s: decision=%s encryptor=%s secret_usage=%s key_size=%r "
          "cipher=%r" % (label, record["decision"], record["encryptor"],
                         record["secret_usage"], record["key_size"],
                         record["cipher"]))
    if record.get("error"):
        print("    %s: error: %s" % (label, record["error"]))
    if record["disk_xml"]:
        for line in record["disk_xml"].rstrip().splitlines():
            print("    %s| %s" % (label, line))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvirt", required=True)
    parser.add_argument("--cases", default=os.path.join(HERE, "cases"))
    parser.add_argument("--differences",
                        default=os.path.join(HERE, "differences.md"))
    parser.add_argument("--show", action="store_true",
                        help="print both sides of every case")
    parser.add_argument("names", nargs="*", metavar="CASE")
    args = parser.parse_args()

    try:
        sys.path.insert(0, HERE)
        import nova_side
    except ImportError as e:
        print("oracle: skipped: cannot import Nova (%s); install "
              "python3-nova and python3-os-brick (scripts/install-deps.sh)"
              % e)
        return 77

    cases = load_cases(args.cases, set(args.names))
    expected, pending = load_differences(args.differences)
    names = {c["name"] for c in cases}
    failed = 0
    if not args.names:
        for name in sorted(set(expected) - names):
            print("FAIL differences.md lists %s, which is no case" % name)
            failed += 1

    matched = deliberate = gaps = 0
    with tempfile.TemporaryDirectory(prefix="nvirt-oracle-") as tmp:
        for case in cases:
            op = case.get("operation", "attach")
            # Nova's connect_volume rewrites connection_info in place.
            nova = nova_side.run(copy.deepcopy(case))
            nvirt = NVIRT_OPERATIONS[op](args.nvirt, case, tmp, nova_side)
            diff = differing_fields(case, nova, nvirt)
            want = expected.get(case["name"], set())
            if diff == want:
                status = "ok  "
                if case["name"] in pending:
                    gaps += 1
                elif want:
                    deliberate += 1
                else:
                    matched += 1
            else:
                status = "FAIL"
                failed += 1
            note = ""
            if want or diff:
                note = " (differs in: %s; differences.md: %s)" % (
                    ", ".join(sorted(diff)) or "nothing",
                    ", ".join(sorted(want)) or "nothing")
            print("%s %s [%s]%s" % (status, case["name"], case["_file"], note))
            if status == "FAIL" or args.show:
                show("nova ", nova)
                show("nvirt", nvirt)

    total = len(cases)
    print("oracle: %d cases: %d match Nova, %d deliberate differences, %d "
          "known gaps pending elsewhere, %d failed"
          % (total, matched, deliberate, gaps, failed))
    print("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | "
          "Crashing: 0" % (total, total - failed if failed <= total else 0,
                           failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
