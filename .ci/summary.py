"""
Print trial's closing line as "N passed, N failed, N skipped".

Exits 1 when trial reported no result line or ran no test, so CI cannot
pass on a run that tested nothing.
"""

import re
import sys

text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
found = re.findall(r"^(PASSED|FAILED) \(([^)]*)\)\s*$", text, re.MULTILINE)
if not found:
    print("0 passed, 0 failed (trial printed no result line)")
    sys.exit(1)
counts = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found[-1][1])}
passed = counts.get("successes", 0) + counts.get("expectedFailures", 0)
failed = counts.get("failures", 0) + counts.get("errors", 0) + counts.get("unexpectedSuccesses", 0)
skipped = counts.get("skips", 0)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or found[-1][0] == "FAILED" or passed == 0 else 0)
