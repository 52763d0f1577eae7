"""Exits 0 when the kit's benchmark report (JSON) shows the grouped experts differing from the per-expert loop in any
tensor of its dispatch-agreement section, 1 when they agree bit for bit, 2 when the report has no such section.

    python3 benchmarks/cuda/agreement-differs.py REPORT.json
"""
import json
import sys

agreement = json.load(open(sys.argv[1])).get("dispatch_agreement")
if not agreement:
    sys.exit(2)
differing = [f"{t['stage']} {t['tensor']}: {t['max_abs_difference']:.3g}"
             for t in agreement["tensors"] if t["max_abs_difference"] > 0]
print("grouped against the loop:", "; ".join(differing) or "bit for bit")
sys.exit(0 if differing else 1)
