#!/usr/bin/env python3
"""Turns the measurements of scripts/bench.sh into docs/performance.md.

Reads Google Benchmark JSON (engine, service) and `dsdctl load --output json`
reports from the measurement folder, fits the engine's cost curve, draws the
plots with gnuplot (PNG) and writes the Markdown report. Standard library
only.
"""
import json
import math
import os
import platform
import subprocess
import sys
import time


def load(path):
    with open(path) as f:
        return json.load(f)


def bench_rows(path, prefix):
    rows = []
    for b in load(path)["benchmarks"]:
        if not b["name"].startswith(prefix) or b.get("run_type") == "aggregate":
            continue
        args = dict(part.split(":") for part in b["name"].split("/")[1:])
        rows.append({**{k: int(v) for k, v in args.items()}, **b})
    return rows


def fit_loglog(xs, ys):
    """Least-squares slope of log(y) on log(x): 1.0 means linear cost."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    n = len(lx)
    mx, my = sum(lx) / n, sum(ly) / n
    sxx = sum((a - mx) ** 2 for a in lx)
    sxy = sum((a - mx) * (b - my) for a, b in zip(lx, ly))
    return sxy / sxx if sxx else float("nan")


def fit_linear(units, ys):
    """y = a * units (through the origin); returns a and R^2."""
    a = sum(u * y for u, y in zip(units, ys)) / sum(u * u for u in units)
    mean = sum(ys) / len(ys)
    ss_tot = sum((y - mean) ** 2 for y in ys)
    ss_res = sum((y - a * u) ** 2 for u, y in zip(units, ys))
    return a, (1 - ss_res / ss_tot) if ss_tot else 1.0


def gnuplot(script):
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"perf_report: gnuplot failed ({e}); plots skipped",
              file=sys.stderr)
        return False


def main(measured, docs):
    lines = []
    out = lines.append
    out("# dsd performance")
    out("")
    out(f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Release build. "
        "Machines here are noisy: compare the ratios (each measured within "
        "one run), not absolute times across runs.")
    out("")

    # 1. Engine scaling.
    engine = bench_rows(os.path.join(measured, "engine.json"), "BM_Decide/")
    out("## 1. Engine time versus cluster size")
    out("")
    out("`bench/engine_bench`: `engine::Decide` on synthetic clusters (one "
        "daemon pod per eligible node, with missing, outdated, failed and "
        "unready pods, and nodes that do not match).")
    out("")
    out("| nodes | DaemonSets | pods | engine ms | ns per node x DaemonSet | ns per pod |")
    out("|---:|---:|---:|---:|---:|---:|")
    for r in engine:
        ms = r["real_time"] if r["time_unit"] == "ms" else r["real_time"] / 1e6
        r["ms"] = ms
        out(f"| {r['nodes']} | {r['daemonsets']} | {int(r['pods'])} | "
            f"{ms:.3f} | {ms * 1e6 / (r['nodes'] * r['daemonsets']):.0f} | "
            f"{ms * 1e6 / max(1, r['pods']):.0f} |")
    units = [r["nodes"] * r["daemonsets"] + r["pods"] for r in engine]
    times = [r["ms"] for r in engine]
    k = fit_loglog(units, times)
    a, r2 = fit_linear(units, times)
    out("")
    out(f"Fitted on work = nodes x DaemonSets + pods: log-log slope "
        f"**{k:.2f}** (1.00 is linear), linear fit {a * 1e6:.0f} ns per "
        f"unit with R² = {r2:.3f}.")
    out("")
    with open(os.path.join(measured, "engine.dat"), "w") as f:
        for u, t in zip(units, times):
            f.write(f"{u} {t}\n")
    if gnuplot(f"""set terminal pngcairo size 800,500
set output '{docs}/perf-engine.png'
set logscale xy
set xlabel 'work = nodes x DaemonSets + pods'
set ylabel 'engine time (ms)'
set key left top
f(x) = {a} * x
plot '{measured}/engine.dat' using 1:2 with points pt 7 title 'measured', \\
     f(x) with lines title 'linear fit'
"""):
        out("![engine time](perf-engine.png)")
        out("")

    # 2. Handler versus parse.
    service = bench_rows(os.path.join(measured, "service.json"),
                         "BM_ParseVersusHandler/")
    out("## 2. Decide handler versus protobuf parse of the same request")
    out("")
    out("`bench/service_bench`: per iteration the request bytes are parsed "
        "by protobuf (heap and arena), then the service's Decide runs on the "
        "same bytes as dsd-server runs it: the two-pass read of "
        "`server/convert/wire.h` with validation and conversion, the engine, "
        "the response. The handler parses the request itself, so what the "
        "engine and conversion add is handler - parse. "
        "Target: (handler - parse) / parse <= 0.5.")
    out("")
    out("| nodes | DaemonSets | request MB | parse (arena) ms | parse (heap) ms | handler ms, parsing included | added / arena parse | added / heap parse |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in service:
        out(f"| {r['nodes']} | {r['daemonsets']} | {r['request_MB']:.1f} | "
            f"{r['parse_arena_ms']:.2f} | {r['parse_heap_ms']:.2f} | "
            f"{r['handler_ms']:.2f} | **{r['added_over_parse']:.2f}** | "
            f"{r['added_over_heap_parse']:.2f} |")
    out("")
    stages = bench_rows(os.path.join(measured, "service.json"),
                        "BM_HandlerStages/")
    if stages:
        out("Where the handler's time goes (`BM_HandlerStages`), each stage "
            "over the arena parse of the same run: pass 1 reads all but the "
            "pods; pass 2 parses, validates and converts the pods one by one.")
        out("")
        out("| nodes | DaemonSets | pass 1 | pass 2 | engine | response |")
        out("|---:|---:|---:|---:|---:|---:|")
        for r in stages:
            out(f"| {r['nodes']} | {r['daemonsets']} | "
                f"{r['head_over_parse']:.2f} | {r['pods_over_parse']:.2f} | "
                f"{r['engine_over_parse']:.2f} | "
                f"{r['to_proto_over_parse']:.3f} |")
        out("")

    # 3. Throughput.
    def report(name):
        path = os.path.join(measured, f"load-{name}.json")
        return load(path) if os.path.exists(path) else None

    health = report("health")
    out("## 3. Server throughput: Decide versus Validate")
    out("")
    out("`dsdctl load`, closed loop, concurrency 4, one channel, same client "
        "and request bytes for both methods. Validate parses and validates "
        "only: the floor a decision service cannot go below. Target: "
        "Decide / Validate >= 0.8.")
    out("")
    out("Decide and Validate run alternately, several rounds; the table "
        "shows the round with the median ratio, and every round's ratio.")
    out("")
    out("| nodes | request KB | Decide QPS | Validate QPS | Decide / Validate | every round | Decide p99 ms |")
    out("|---:|---:|---:|---:|---:|---:|---:|")
    for nodes in (100, 5000):
        rounds = []
        for i in range(1, 100):
            d, v = report(f"decide-{nodes}-{i}"), report(f"validate-{nodes}-{i}")
            if not d or not v:
                break
            rounds.append((d["qps"] / v["qps"], d, v))
        if not rounds:
            continue
        ratio, d, v = sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]
        every = ", ".join(f"{r[0]:.2f}" for r in rounds)
        out(f"| {nodes} | {d['request_bytes'] / 1024:.0f} | {d['qps']:.1f} | "
            f"{v['qps']:.1f} | **{ratio:.2f}** | {every} | "
            f"{d['latency_ms']['p99']:.2f} |")
    in_process = bench_rows(os.path.join(measured, "service.json"),
                            "BM_DecideOverValidate/")
    if in_process:
        out("")
        out("The server's side of it, in process (`BM_DecideOverValidate`, "
            "no transport, no client): Decide / Validate throughput " +
            ", ".join(f"{r['validate_over_decide']:.2f} at {r['nodes']} nodes"
                      for r in in_process) + ".")
    if health:
        out("")
        out(f"Transport ceiling for context: `grpc.health.v1.Health/Check` "
            f"at {health['qps']:.0f} QPS with the same client.")
    out("")

    # 4. Latency under a fixed rate.
    o = report("open-100")
    if o:
        lat = o["latency_ms"]
        out("## 4. Latency under a fixed open-loop rate")
        out("")
        out(f"100 nodes x 10 DaemonSets at {o['rate']:.0f} requests/s "
            f"(half the closed-loop capacity), latency from the intended "
            f"send time (no coordinated omission); {o['requests']} requests, "
            f"{sum(o['errors'].values()) if o['errors'] else 0} errors.")
        out("")
        out("| p50 | p90 | p99 | p99.9 | max |")
        out("|---:|---:|---:|---:|---:|")
        out(f"| {lat['p50']:.2f} | {lat['p90']:.2f} | {lat['p99']:.2f} | "
            f"{lat['p999']:.2f} | {lat['max']:.2f} |")
        out("")
        with open(os.path.join(measured, "latency.dat"), "w") as f:
            for i, key in enumerate(["p50", "p90", "p99", "p999", "max"]):
                f.write(f"{i} {key} {lat[key]}\n")
        if gnuplot(f"""set terminal pngcairo size 800,400
set output '{docs}/perf-latency.png'
set style fill solid 0.6
set boxwidth 0.6
set ylabel 'latency (ms)'
set yrange [0:*]
plot '{measured}/latency.dat' using 1:3:xtic(2) with boxes notitle
"""):
            out("![latency percentiles](perf-latency.png)")
            out("")

    # 5. Memory.
    rss_path = os.path.join(measured, "rss.json")
    if os.path.exists(rss_path):
        m = load(rss_path)
        grown = m["peak_rss_bytes"] - m["baseline_rss_bytes"]
        out("## 5. Peak memory for the 5,000-node request")
        out("")
        out(f"5,000 nodes x 50 DaemonSets, request {m['request_bytes'] / 1e6:.1f} MB. "
            f"dsd-server peak RSS {m['peak_rss_bytes'] / 1e6:.1f} MB "
            f"(idle {m['baseline_rss_bytes'] / 1e6:.1f} MB): "
            f"**{m['peak_rss_bytes'] / m['request_bytes']:.2f}x** the request "
            f"({grown / m['request_bytes']:.2f}x counting only what the "
            f"request added). Target <= 3x.")
        out("")

    with open(os.path.join(docs, "performance.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
