#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench-plot.py - charts (SVG and PNG) from the benchmarks' JSON lines.

    tools/bench-plot.py --out DIR FILE... ('-' reads stdin)

Reads the JSON lines of bench/bench_engine.c ("bench":"engine"),
bench/bench-e2e.sh ("bench":"e2e") and tests/lab/bench.sh ("bench":"lab");
other lines (logs around them) are skipped. Each benchmark measures its own
baseline in the same run, so the charts show xnb against that baseline:

  engine-throughput  TX and RX per frame size, as a fraction of memcpy
  engine-packets     TX and RX per frame size, in Mpps
  e2e-throughput     TCP and 64-byte UDP frames per direction, against veth
  e2e-multiqueue     4 TCP streams over several queues, against one queue
  e2e-isolation      guest A's TCP while guest B is hostile, against A alone
  e2e-latency        ping round trip through xnb and through veth, in ms
  lab-throughput     per test and direction, against the kernel's netback

A chart is drawn only if its rows are there; fields a row lacks are left
out. When a file holds several runs, the last row of each kind wins.
Drawn by gnuplot (Debian's gnuplot-nox), which this script only feeds.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

DIRECTIONS = {
    "guest_to_host": "guest -> host", "host_to_guest": "host -> guest",
    "dom0_to_domU": "dom0 -> domU", "domU_to_dom0": "domU -> dom0",
}
E2E_TESTS = {"tcp": "TCP", "udp_64B_frames": "UDP, 64-byte frames"}
LAB_TESTS = {"tcp": "TCP", "udp64": "UDP, 18-byte datagrams", "tcp4": "TCP, 4 streams",
             "tcp4mq": "TCP, 4 streams, 2 vcpus"}


def load(paths):
    """Every benchmark row of @paths, in order."""
    rows = []
    for path in paths:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and row.get("bench") in ("engine", "e2e", "lab"):
                    rows.append(row)
    return rows


def latest(rows, bench, test=None):
    """@bench's rows (of @test), the last one for each key wins."""
    out = {}
    for r in rows:
        if r.get("bench") != bench or (test is not None and r.get("test") != test):
            continue
        key = (r.get("test"), r.get("path"), r.get("frame_bytes"), r.get("direction"),
               r.get("hostile"))
        out[key] = r
    return list(out.values())


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def ratio_label(ratio, absolute=None, unit=""):
    """A bar's label: the ratio above it, "|", the absolute value inside it."""
    if ratio is None:
        return ""
    text = f"{ratio:.2f}x"
    if absolute is not None:
        text += f"|{absolute:g}{unit}"
    return text


class Chart:
    """Clustered bars: one cluster per category, one bar per series."""

    def __init__(self, name, title, ylabel, categories, series, baseline=None):
        self.name, self.title, self.ylabel = name, title, ylabel
        self.baseline = baseline              # (y, text) of a dashed line, or None
        # Series without a value, and categories where no series has one, are left out.
        series = [s for s in series if any(v is not None for v in s[1])]
        keep = [i for i in range(len(categories)) if any(s[1][i] is not None for s in series)]
        self.categories = [categories[i] for i in keep]
        self.series = [(t, [v[i] for i in keep], [l[i] for i in keep]) for t, v, l in series]

    def values(self):
        return [v for _, vals, _ in self.series for v in vals if v is not None]

    def write(self, out_dir, work_dir):
        """@out_dir/NAME.svg and .png, by gnuplot from a script in @work_dir."""
        out = os.path.abspath(os.path.join(out_dir, self.name))
        dat = os.path.join(work_dir, self.name + ".dat")
        with open(dat, "w", encoding="utf-8") as f:
            f.write("# " + "\t".join(["category"] + [s[0] for s in self.series] +
                                     ["label " + s[0] for s in self.series] +
                                     ["inside " + s[0] for s in self.series]) + "\n")
            for i, cat in enumerate(self.categories):
                vals = ["?" if s[1][i] is None else repr(s[1][i]) for s in self.series]
                parts = [(s[2][i] + "|").split("|") for s in self.series]
                f.write("\t".join([cat] + vals + [p[0] or " " for p in parts] +
                                   [p[1] or " " for p in parts]) + "\n")
        n = len(self.series)
        top = max(self.values() + [self.baseline[0] if self.baseline else 0])
        # A cluster of n bars with a gap of one bar spans 1: each bar 1/(n+1).
        width = 1.0 / (n + 1)
        plots = [f"'{self.name}.dat' using 2:xtic(1) title '{self.series[0][0]}'"]
        plots += [f"'' using {k + 2} title '{self.series[k][0]}'" for k in range(1, n)]
        for k in range(n):
            off = (k - (n - 1) / 2) * width
            plots.append(f"'' using ($0{off:+.4f}):{k + 2}:{n + k + 2} with labels boxed "
                         "offset 0,0.8 font ',10' notitle")
            # The absolute value, written down the bar from its top.
            plots.append(f"'' using ($0{off:+.4f}):{k + 2}:{2 * n + k + 2} with labels "
                         "rotate by 90 right offset 0,-0.6 font ',9' textcolor rgb 'white' "
                         "notitle")
        lines = [
            "set datafile separator '\\t'",
            "set datafile missing '?'",
            "set termoption noenhanced",
            f"set title \"{self.title}\"",
            f"set ylabel \"{self.ylabel}\"",
            f"set yrange [0:{top * 1.25:.6g}]",
            "set style data histogram",
            "set style histogram cluster gap 1",
            "set style fill solid 0.85 border -1",
            "set boxwidth 1",
            "set grid ytics",
            "set xtics nomirror scale 0",
            "set key top right",
            "set style textbox opaque noborder",
        ]
        if self.baseline:
            y, text = self.baseline
            lines += [f"set arrow from graph 0, first {y} to graph 1, first {y} nohead "
                      "dashtype 2 linewidth 1.5 linecolor rgb 'gray30' back",
                      f"set label \"{text}\" at graph 0.01, first {y} offset 0,0.6 "
                      "font ',10' textcolor rgb 'gray30' front"]
        plot = "plot " + ", \\\n     ".join(plots)
        script = "\n".join(lines + [
            "set terminal svg size 860,460 dynamic font 'sans,12' background rgb 'white'",
            f"set output '{out}.svg'", plot,
            "set terminal pngcairo size 860,460 font 'sans,11' background rgb 'white'",
            f"set output '{out}.png'", "replot", "unset output", ""])
        gp = os.path.join(work_dir, self.name + ".gp")
        with open(gp, "w", encoding="utf-8") as f:
            f.write(script)
        subprocess.run(["gnuplot", self.name + ".gp"], cwd=work_dir, check=True)


def engine_charts(rows):
    rows = latest(rows, "engine")
    frames = sorted({r["frame_bytes"] for r in rows if num(r.get("frame_bytes"))})
    if not frames:
        return []
    cats = [f"{f} B" for f in frames]

    def series(field, fmt):
        out = []
        for path in ("tx", "rx"):
            vals, labels = [], []
            for f in frames:
                r = next((x for x in rows if x.get("path") == path and x.get("frame_bytes") == f), {})
                v = num(r.get(field))
                vals.append(v)
                labels.append(fmt(v, r) if v is not None else "")
            out.append((path.upper(), vals, labels))
        return out

    charts = []
    thr = series("ratio_to_memcpy",
                 lambda v, r: ratio_label(v, num(r.get("gbps")), " Gbit/s"))
    if any(v is not None for _, vals, _ in thr for v in vals):
        charts.append(Chart("engine-throughput",
                            "Engine + simulated grant copy, one core: throughput against memcpy",
                            "fraction of memcpy's throughput (same run)", cats, thr,
                            (1, "memcpy")))
    pps = series("mpps", lambda v, r: f"{v:g}")
    if any(v is not None for _, vals, _ in pps for v in vals):
        charts.append(Chart("engine-packets", "Engine + simulated grant copy, one core: packet rate",
                            "Mpps", cats, pps))
    return charts


def by_direction(rows, cats_of, cat_order, value, label, dirs):
    """Series per direction over categories; @cats_of(row) names a row's category."""
    present = [c for c in cat_order if any(cats_of(r) == c for r in rows)]
    series = []
    for d in dirs:
        if not any(r.get("direction") == d for r in rows):
            continue
        vals, labels = [], []
        for c in present:
            r = next((x for x in rows if cats_of(x) == c and x.get("direction") == d), None)
            v = num(value(r)) if r else None
            vals.append(v)
            labels.append(label(r) if r and v is not None else "")
        series.append((DIRECTIONS.get(d, d), vals, labels))
    return present, series


def e2e_charts(rows):
    charts = []
    dirs = ("guest_to_host", "host_to_guest")
    thr = [r for r in latest(rows, "e2e") if r.get("test") in E2E_TESTS]
    if thr:
        cats, series = by_direction(
            thr, lambda r: r["test"], list(E2E_TESTS), lambda r: r.get("ratio"),
            lambda r: ratio_label(num(r.get("ratio")),
                                  num(r.get("xnb_gbps", r.get("xnb_kpps"))),
                                  " Gbit/s" if "xnb_gbps" in r else " kpps"), dirs)
        if series:
            charts.append(Chart("e2e-throughput",
                                "Namespaces over the simulated Xen: xnb against a veth pair",
                                "xnb / veth (same run)", [E2E_TESTS[c] for c in cats], series,
                                (1, "veth")))
    mq = latest(rows, "e2e", "tcp_multiqueue")
    if mq:
        cats, series = by_direction(
            mq, lambda r: "4 TCP streams", ["4 TCP streams"], lambda r: r.get("ratio"),
            lambda r: ratio_label(num(r.get("ratio")), num(r.get("multi_queue_gbps")),
                                  " Gbit/s"), dirs)
        queues = next((r.get("queues") for r in mq if r.get("queues")), "several")
        if series:
            charts.append(Chart("e2e-multiqueue", f"Multi-queue: {queues} queues against one",
                                "several queues / one queue (same run)", cats, series,
                                (1, "one queue")))
    iso = latest(rows, "e2e", "isolation")
    if iso:
        modes = []
        for r in iso:
            if r.get("hostile") not in modes:
                modes.append(r.get("hostile"))
        cats, series = by_direction(
            iso, lambda r: r.get("hostile"), modes, lambda r: r.get("ratio"),
            lambda r: ratio_label(num(r.get("ratio")), num(r.get("during_gbps")), " Gbit/s"),
            dirs)
        if series:
            charts.append(Chart("e2e-isolation",
                                "Isolation: guest A's TCP while guest B is hostile",
                                "A during / A alone (same run)", [str(c) for c in cats], series,
                                (1, "A alone")))
    rtt = [r for r in rows if r.get("bench") == "e2e" and r.get("test") == "ping_rtt"]
    if rtt:
        cats = [f"run {i + 1}" for i in range(len(rtt))] if len(rtt) > 1 else ["ping -i 0.05"]
        series = []
        for title, field in (("xnb", "xnb_ms"), ("veth", "veth_ms")):
            vals = [num(r.get(field)) for r in rtt]
            series.append((title, vals, [f"{v:g} ms" if v is not None else "" for v in vals]))
        charts.append(Chart("e2e-latency", "Round-trip time: xnb against a veth pair",
                            "ms (average of 20 pings)", cats, series))
    return charts


def lab_charts(rows):
    lab = [r for r in latest(rows, "lab") if r.get("test") in LAB_TESTS]
    if not lab:
        return []

    def label(r):
        unit = next((k[4:] for k in r if k.startswith("xnb_") and k != "xnb_runs"), "")
        return ratio_label(num(r.get("ratio")), num(r.get("xnb_" + unit)),
                           {"mbps": " Mbit/s", "kpps": " kpps"}.get(unit, ""))

    cats, series = by_direction(lab, lambda r: r["test"], list(LAB_TESTS),
                                lambda r: r.get("ratio"), label,
                                ("dom0_to_domU", "domU_to_dom0"))
    if not series:
        return []
    return [Chart("lab-throughput", "Xen under QEMU: xnb against the kernel's netback",
                  "xnb / xen-netback (medians, alternating rounds)", [LAB_TESTS[c] for c in cats],
                  series, (1, "xen-netback"))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the charts (created)")
    ap.add_argument("files", nargs="+", help="files of JSON lines ('-': stdin)")
    args = ap.parse_args()
    rows = load(args.files)
    if not rows:
        sys.exit("bench-plot: no benchmark JSON lines in " + " ".join(args.files))
    os.makedirs(args.out, exist_ok=True)
    charts = engine_charts(rows) + e2e_charts(rows) + lab_charts(rows)
    with tempfile.TemporaryDirectory(prefix="bench-plot.") as work:
        for c in charts:
            c.write(args.out, work)
            print(f"{args.out}/{c.name}.svg  {args.out}/{c.name}.png")
    if not charts:
        sys.exit("bench-plot: no chart has data")


if __name__ == "__main__":
    main()
