#!/usr/bin/env python3
"""Draws scaling.svg from scaling.csv (no third-party packages): the two MoE-LPR gaps per base model, on the test
split. Left: old languages, MoE-LPR vs the base (%; the paper: within a few %). Right: new languages, MoE-LPR vs stage 1
(%; the paper: below 0). Render to PNG with: chromium --headless --screenshot=scaling.png --window-size=900,380 scaling.svg"""
import csv, os
here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "scaling.csv"))))
W, H, PW, top, bottom, left = 900, 380, 390, 50, 300, 60
def panel(x0, key, title, target):
    vals = [float(r[key]) for r in rows]
    lo, hi = min(0, min(vals), target) - 5, max(vals + [target]) + 5
    y = lambda v: top + (hi - v) / (hi - lo) * (bottom - top)
    out = [f'<text x="{x0 + PW/2}" y="25" text-anchor="middle" font-size="15" font-weight="bold">{title}</text>']
    for t in range(int(lo // 10 * 10), int(hi) + 1, 10):
        if lo <= t <= hi:
            out.append(f'<line x1="{x0}" x2="{x0+PW-20}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ddd"/>'
                       f'<text x="{x0-6}" y="{y(t)+4:.1f}" text-anchor="end" font-size="11">{t:+d} %</text>')
    out.append(f'<line x1="{x0}" x2="{x0+PW-20}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#2a9d8f" stroke-dasharray="6 4"/>'
               f'<text x="{x0+PW-22}" y="{y(target)-5:.1f}" text-anchor="end" font-size="11" fill="#2a9d8f">paper / target</text>')
    n = len(rows); step = (PW - 60) / max(1, n - 1)
    pts = [(x0 + 20 + i * step, y(v)) for i, v in enumerate(vals)]
    out.append('<polyline fill="none" stroke="#e76f51" stroke-width="2" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
    for (a, b), v, r in zip(pts, vals, rows):
        out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="#e76f51"/><text x="{a:.1f}" y="{b-8:.1f}" text-anchor="middle" font-size="11">{v:+.1f} %</text>')
        for k, line in enumerate(r["label"].split("|")):
            out.append(f'<text x="{a:.1f}" y="{bottom + 16 + 13*k}" text-anchor="middle" font-size="10">{line}</text>')
    return out
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif"><rect width="{W}" height="{H}" fill="white"/>']
svg += panel(left, "old_gap_pct", "Old languages: MoE-LPR vs base", 5)
svg += panel(left + PW + 60, "new_gap_pct", "New languages: MoE-LPR vs stage 1", 0)
svg.append('</svg>')
open(os.path.join(here, "scaling.svg"), "w").write("\n".join(svg) + "\n")
