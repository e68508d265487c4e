#!/usr/bin/env python3
"""The tests ctest reported Skipped in one run, read from its JUnit file (ctest --output-junit).

usage: scripts/ctest-skips.py JUNIT_XML [STAGE]

Prints how many tests were skipped and, for each, the SKIPPED lines of its output (the reason it
printed, test/skip.hpp). Exit 1 when CI=true and a test was skipped: in CI a test that cannot
run is a failure (docs/testing.md). Exit 2 when the file cannot be read; else 0.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

# ctest's <skipped message=...> for SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION. Other "not run"
# tests (executable missing, fixture failed) are failures, which ctest itself reports.
SKIP_MESSAGE = "SKIP_"
REASON = re.compile(r"^SKIP(PED)?\b.*$", re.M)


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print("usage: scripts/ctest-skips.py JUNIT_XML [STAGE]", file=sys.stderr)
        return 2
    junit = sys.argv[1]
    stage = sys.argv[2] if len(sys.argv) == 3 else "ctest"
    try:
        suite = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"skipped tests ({stage}): cannot read {junit}: {e}", file=sys.stderr)
        return 2
    skipped = [
        t for t in suite.iter("testcase")
        if any(s.get("message", "").startswith(SKIP_MESSAGE) for s in t.findall("skipped"))
    ]
    print(f"skipped tests ({stage}): {len(skipped)}")
    for t in skipped:
        output = t.findtext("system-out") or ""
        reasons = dict.fromkeys(m.group(0).strip() for m in REASON.finditer(output))
        print(f"  {t.get('name')}")
        for reason in reasons or ["(no reason printed)"]:
            print(f"    {reason}")
    if skipped and os.environ.get("CI", "").lower() in ("true", "1"):
        print(f"CI=true: {len(skipped)} skipped test(s) fail this run (docs/testing.md)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
