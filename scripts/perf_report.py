#!/usr/bin/env python3
"""Turns the measurements of scripts/bench.sh into docs/performance.md.

Reads Google Benchmark JSON (engine, service) and `dsdctl load --output json`
reports from the measurement folder, fits the engine's cost curve, draws the
plots with gnuplot (PNG) and writes the Markdown report. Prose people
wrote into the earlier report between `<!-- kept -->` lines is carried over
(with_kept). Standard library only.
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
        # ("real_time" is a suffix, not an argument.)
        args = dict(part.split(":") for part in b["name"].split("/")[1:]
                    if ":" in part)
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
    engine_path = os.path.join(measured, "engine.json")
    engine = bench_rows(engine_path, "BM_Decide/") \
        if os.path.exists(engine_path) else []
    if engine:
        engine_section(engine, measured, docs, out)
    service_path = os.path.join(measured, "service.json")
    if os.path.exists(service_path):
        service_section(service_path, out)
    later_sections(measured, docs, out)
    hostile_section(measured, out)
    extender_section(measured, out)
    kube_json_section(measured, out)
    adapter_scale_section(measured, out)
    soak_section(docs, out)
    apply_scale_section(measured, out)
    kube_client_section(measured, out)

    page = os.path.join(docs, "performance.md")
    lines = with_kept(lines, kept_blocks(page))
    with open(page, "w") as f:
        f.write("\n".join(lines))


# Prose people write into the page (a change's before and after, what a
# target still lacks) sits between these two lines; a new `make bench`
# carries it over rather than dropping it.
KEEP_BEGIN = "<!-- kept -->"
KEEP_END = "<!-- /kept -->"


def section_key(heading):
    """'## 6. Hostile requests' -> '6.'; '' before the first section."""
    return heading[3:].split(" ", 1)[0] if heading else ""


def kept_blocks(path):
    """The kept blocks of the page at `path`: (section heading, lines)."""
    if not os.path.exists(path):
        return []
    blocks, heading, block = [], "", None
    with open(path) as f:
        for line in f.read().split("\n"):
            if block is not None:
                block.append(line)
                if line.strip() == KEEP_END:
                    blocks.append((heading, block))
                    block = None
            elif line.strip() == KEEP_BEGIN:
                block = [line]
            elif line.startswith("## "):
                heading = line
    if block is not None:
        print(f"perf_report: {path}: a {KEEP_BEGIN} without its end; "
              "kept to the end of the page", file=sys.stderr)
        blocks.append((heading, block + [KEEP_END]))
    return blocks


def with_kept(lines, blocks):
    """`lines` with each kept block at the end of its section (by number),
    or, for a section not measured this time, under its old heading at the
    end of the page."""
    pending = {}
    for heading, block in blocks:
        pending.setdefault(section_key(heading), (heading, []))[1].append(block)
    out = []

    def flush(key):
        for block in pending.pop(key, ("", []))[1]:
            out.extend(block + [""])

    current = ""
    for line in lines:
        if line.startswith("## "):
            flush(current)
            current = section_key(line)
        out.append(line)
    flush(current)
    for heading, rest in pending.values():
        out.extend(["", heading, ""])
        for block in rest:
            out.extend(block + [""])
    return out


def engine_section(engine, measured, docs, out):
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



def service_section(service_path, out):
    # 2. Handler versus parse.
    service = bench_rows(service_path, "BM_ParseVersusHandler/")
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
    stages = bench_rows(service_path, "BM_HandlerStages/")
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



def later_sections(measured, docs, out):
    # 3. Throughput.
    def report(name):
        path = os.path.join(measured, f"load-{name}.json")
        return load(path) if os.path.exists(path) else None

    health = report("health")
    if not report("decide-100-1") and not report("decide-5000-1"):
        return later_sections_4_5(measured, docs, out, report)
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
    service_path = os.path.join(measured, "service.json")
    in_process = bench_rows(service_path, "BM_DecideOverValidate/") \
        if os.path.exists(service_path) else []
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
    later_sections_4_5(measured, docs, out, report)


def later_sections_4_5(measured, docs, out, report):
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


SHAPES = {
    1: "Decide: nodes x one DaemonSet with one required-affinity `In` "
       "requirement of many values",
    2: "Decide: one node with many NoSchedule taints x a DaemonSet with as "
       "many non-matching tolerations",
    3: "Decide: one node with millions of empty taints",
    4: "Decide: millions of empty nodes (over --max_nodes)",
    5: "Explain: nodes that do not match one DaemonSet with many `In` values",
    6: "Decide: nodes with 1,000 NoSchedule taints each x a DaemonSet with "
       "1,000 non-matching tolerations (shape 2 within the per-object caps)",
    7: "Decide: nodes with 1,000 labels each, of distinct 2- and "
       "3-character keys and empty values (about 7 bytes a label), no two "
       "nodes alike",
    8: "Decide: nodes with 1,000 NoSchedule taints each, of such keys "
       "(about 9 bytes a taint)",
    9: "Decide: one unscheduled pod whose required affinity has one `In` "
       "requirement of many values",
}


def hostile_section(measured, out):
    """6. Hostile requests (issue 11): adversarial_bench + bench.sh step 7."""
    bench_path = os.path.join(measured, "adversarial.json")
    in_process = {}
    if os.path.exists(bench_path):
        for b in load(bench_path)["benchmarks"]:
            if not b["name"].startswith("BM_Hostile/") or \
                    b.get("run_type") == "aggregate" or "error_message" in b:
                continue
            parts = b["name"].split("/")
            b["size"] = " x ".join(p for p in parts[2:4] if not p.endswith(":0"))
            in_process[int(b["shape"])] = b

    def optional(path):
        path = os.path.join(measured, path)
        return load(path) if os.path.exists(path) else None

    server = {}
    for shape in SHAPES:
        request = optional(f"hostile-{shape}-request.json")
        rss = optional(f"hostile-{shape}-rss.json")
        sent = optional(f"hostile-{shape}-send.json")
        if request and rss:
            server[shape] = (request, rss, sent or {})
    health = {t: optional(f"hostile-health-t{t}.json") for t in (0, 2)}
    if not in_process and not server:
        return

    out("## 6. Hostile requests")
    out("")
    out("The request shapes of issue 11, each compared with a benign "
        "request of the same size (the synthetic cluster, 10 DaemonSets, "
        "its node count picked to match the bytes).")
    out("")
    out("- **time / MB vs benign**: `bench/adversarial_bench`, the service "
        "handler in process (Decide or Explain on the request bytes, as "
        "dsd-server runs it); the hostile request's time per MB of request "
        "over the benign request's, measured in the same run. Target <= 3. "
        "A request rejected over a limit or a per-object cap is handled "
        "too: its time is the rejection's.")
    out("- **peak RSS above idle / request**: a fresh `dsd-server "
        "--max_nodes 100000` per shape, the request sent once "
        "(`bench/hostile_request`, 5 s deadline), then the server's VmHWM "
        "once it is idle again, minus VmHWM at idle, over the request's "
        "bytes. Target <= 4. The server keeps working after the deadline "
        "when it does not notice the cancellation: its CPU seconds show it.")
    out("- **above warm idle / request**: the same peak, minus the RSS at "
        "idle after one small benign Decide (100 nodes, 0.2 MB) sent "
        "before the hostile one. The first call of a process pages in the "
        "code it runs and makes gRPC's and the allocator's first-call "
        "state, about 1.5 MB that no later call adds again: by the cold "
        "measure a benign 0.16 MB request is 10x its size. The warm "
        "measure counts what the request itself adds.")
    out("- **Health p99**: `grpc.health.v1.Health/Check` at a fixed rate "
        "while four hostile Decide calls (shapes 1 and 6 at the server's "
        "size, two each, each sent again when it ends) run; with the "
        "default threading and with a worker pool. Target < 50 ms.")
    out("- The server's **status** is what the client saw: "
        "DEADLINE_EXCEEDED is its 5 s deadline, past which the server may "
        "still work (its CPU seconds).")
    out("")
    for shape, text in SHAPES.items():
        out(f"{shape}. {text}")
    out("")
    out("| shape | in process: size | request MB | status | hostile ms / MB "
        "| benign ms / MB | **time / MB vs benign** | to the server: size "
        "| request MB | status | server CPU s | peak RSS above idle MB "
        "| **above idle / request** | **above warm idle / request** |")
    out("|---|---|---:|---|---:|---:|---:|---|---:|---|---:|---:|---:|---:|")
    for shape in SHAPES:
        row = [str(shape)]
        b = in_process.get(shape)
        if b:
            row += [b["size"], f"{b['request_MB']:.2f}",
                    b.get("label", "").replace("status=", ""),
                    f"{b['hostile_ms_per_MB']:.1f}",
                    f"{b['benign_ms_per_MB']:.1f}",
                    f"**{b['per_mb_over_benign']:.1f}**"]
        else:
            row += ["-"] * 6
        if shape in server:
            request, rss, sent = server[shape]
            grown = rss["peak_rss_bytes"] - rss["idle_rss_bytes"]
            size = " x ".join(f"{k}:{request[k]}" for k in ("n", "m")
                              if request[k])
            row += [size, f"{request['request_bytes'] / 1e6:.2f}",
                    sent.get("first_status", "no answer"),
                    f"{rss['server_cpu_seconds']:.1f}",
                    f"{grown / 1e6:.0f}",
                    f"**{grown / request['request_bytes']:.1f}**"]
            warm = rss.get("warm_rss_bytes")
            row += [f"**{(rss['peak_rss_bytes'] - warm) / request['request_bytes']:.1f}**"
                    if warm else "-"]
        else:
            row += ["-"] * 7
        out("| " + " | ".join(row) + " |")
    out("")
    for threads, h in health.items():
        if not h:
            continue
        lat = h["latency_ms"]
        errors = sum(h["errors"].values()) if h["errors"] else 0
        codes, calls = {}, 0
        for name in sorted(os.listdir(measured)):
            if not name.startswith(f"hostile-busy-t{threads}-"):
                continue
            try:
                b = load(os.path.join(measured, name))
            except ValueError:  # the sender was killed (bench.sh timeout)
                b = {"calls": 1, "codes": {"no report": 1}}
            calls += b.get("calls", 0)
            for code, n in b.get("codes", {}).items():
                codes[code] = codes.get(code, 0) + n
        setup = ("default threading (`--threads 0`: one worker a core)"
                 if threads == 0 else
                 f"`--threads {threads}` (a worker pool runs the requests)")
        out(f"- **Health p99 {lat['p99']:.1f} ms**, {setup}: Health/Check "
            f"at {h['rate']:.0f} requests/s for {h['duration_seconds']:.1f} s "
            f"while four hostile Decide calls ran ({calls} calls: "
            + ", ".join(f"{c} {n}" for c, n in sorted(codes.items()))
            + f"); p50 {lat['p50']:.2f} ms, max {lat['max']:.2f} ms; "
            f"{h['requests']} requests, {errors} errors"
            + (" (" + ", ".join(f"{c} {n}" for c, n in h["errors"].items())
               + ")" if errors else "")
            + f", {h.get('dropped', 0)} dropped"
            + (", stopped early (nothing succeeded within a second)"
               if h.get("stopped_unusable") else "")
            + ". Calls that fail count at the time they failed (the 5 s "
              "deadline). Target p99 < 50 ms.")
    if any(health.values()):
        out("")



def extender_section(measured, out):
    """7. dsd-extender (issue 16): extender_bench + bench.sh step 8."""
    bench_path = os.path.join(measured, "extender.json")
    fixed_path = os.path.join(measured, "extender-fixed.jsonl")
    if not os.path.exists(bench_path):
        return
    bench = {}
    for b in load(bench_path)["benchmarks"]:
        if b.get("run_type") != "aggregate" and "error_message" not in b:
            bench[b["name"]] = b

    def ms(name, key="real_time"):
        b = bench.get(name)
        if b is None:
            return float("nan")
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        return b[key] * scale

    out("## 7. dsd-extender: filter handler, caches, fixed-rate load")
    out("")
    out("`bench/extender_bench` (issue 16), dsd-server in the same process "
        "over loopback gRPC; the caches are filled from the fake API server "
        "of `tests/kube` with 5,000 realistic Node objects (labels, "
        "conditions, addresses, node info, six images: about 3 KB of JSON "
        "each). Wall time includes dsd-server's threads; CPU is the calling "
        "thread's only.")
    out("")
    out("| measurement | wall ms | CPU ms | ratio |")
    out("|---|---:|---:|---:|")
    parse = ms("BM_JsonParse/5000")
    out(f"| JSON parse of a `Nodes` body of 5,000 Nodes | {parse:.1f} | "
        f"{ms('BM_JsonParse/5000', 'cpu_time'):.1f} | 1 |")
    for name, what in (("BM_Filter/5000/0", "handler, pod passed through"),
                       ("BM_Filter/5000/1", "handler, daemon pod (Filter "
                        "call included)")):
        out(f"| {what} | {ms(name):.1f} | {ms(name, 'cpu_time'):.1f} | "
            f"**{ms(name) / parse:.2f}x** the parse |")
    find = ms("BM_NodeCacheFind/threads:1")
    convert = ms("BM_NodeFromJson")
    out(f"| 5,000 node-cache lookups (no copies) | "
        f"{find:.1f} | {ms('BM_NodeCacheFind/threads:1', 'cpu_time'):.1f} | "
        f"{find / convert:.2f}x converting |")
    out(f"| the same, two threads at once (per thread) | "
        f"{ms('BM_NodeCacheFind/threads:2'):.1f} | "
        f"{ms('BM_NodeCacheFind/threads:2', 'cpu_time'):.1f} | |")
    out(f"| converting the 5,000 parsed Nodes (what the cache saves) | "
        f"{convert:.1f} | {ms('BM_NodeFromJson', 'cpu_time'):.1f} | |")
    for name, what in (
            ("BM_FilterNodeNames/1/1", "node names: daemon pod, 1 name"),
            ("BM_FilterNodeNames/5000/0", "node names: other pod, 5,000 "
             "names (passed through)"),
            ("BM_FilterNodeNames/5000/1", "node names: daemon pod, 5,000 "
             "names")):
        out(f"| {what} | {ms(name):.2f} | {ms(name, 'cpu_time'):.2f} | |")
    out("")
    out("Target: handler within 2x of the parse of the same body.")
    out("")
    if not os.path.exists(fixed_path):
        return
    out("Open-loop HTTP load (`extender_bench --fixed_rate`): an in-process "
        "dsd-extender (HTTP server, 16 workers, both caches) and dsd-server, "
        "8 keep-alive client connections sending on a fixed schedule "
        "(a lean HTTP/1.1 client, as wrk's: one write per request, one "
        "256 KB read buffer); latency from each request's intended send "
        "time, so a stall counts against every request it delays. Handler "
        "ms is the server's mean time in the filter handler (its "
        "histogram), CPU ms the whole process's CPU per request (load "
        "generator, HTTP server, handler). Target: p99 < 2 ms at 500 "
        "requests/s.")
    out("")
    out("| pod | node names | rate | achieved | requests | errors | p50 ms "
        "| p90 ms | p99 ms | p99.9 ms | max ms | warm-up max ms "
        "| handler ms | CPU ms |")
    out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with open(fixed_path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            pod = "daemon" if r.get("daemon_pod", True) else "other"
            out(f"| {pod} | {r['names']} | {r['rate']:.0f} | "
                f"{r['achieved_rate']:.0f} | {r['requests']} | {r['errors']} | "
                f"{r['p50_ms']:.2f} | {r['p90_ms']:.2f} | **{r['p99_ms']:.2f}** | "
                f"{r['p999_ms']:.2f} | {r['max_ms']:.2f} | "
                f"{r.get('warmup_max_ms', float('nan')):.2f} | "
                f"{r.get('handler_mean_ms', float('nan')):.2f} | "
                f"{r.get('cpu_ms_per_request', float('nan')):.2f} |")
    out("")
    out("- **Daemon pod, 1 name** is what kube-scheduler sends for a daemon "
        "pod: the controller pins each pod to its node with a required "
        "`matchFields metadata.name` affinity, so the scheduler's own "
        "NodeAffinity filter leaves one feasible node before extenders run "
        "(cluster-integration.md 7.3).")
    out("- **Other pod, 5,000 names** is the bulk of the traffic when "
        "`managedResources` is empty: every pod passes through the filter "
        "with its feasible nodes (the scheduler samples ~500 of 5,000; "
        "5,000 is the worst case).")
    out("- **Daemon pod, 5,000 names** (the issue's literal case): "
        "dsd-server's answer for a DaemonSet version and a node version is "
        "remembered (`client/extender/verdicts.h`), so after each body's "
        "first request (the warm-up column: one Filter call over 5,000 "
        "nodes) only new or changed nodes are sent to dsd-server. The row "
        "is that steady state; a cluster's node updates (a few a second) "
        "each cost one node's Filter call.")
    out("")

def kube_json_section(measured, out):
    """8. List page decoding against simdjson (issue 14, bench.sh step 9)."""
    path = os.path.join(measured, "kube-json.json")
    if not os.path.exists(path):
        return
    rows = {b["name"]: b for b in load(path)["benchmarks"]
            if b.get("run_type") != "aggregate" and "error_message" not in b}
    need = ["BM_PageNlohmann", "BM_PageSlim", "BM_SimdjsonDom",
            "BM_SimdjsonOnDemandAll", "BM_SimdjsonOnDemand"]
    if any(n not in rows for n in need):
        return
    mbs = {n: rows[n]["bytes_per_second"] / 1e6 for n in need}
    checking = max(mbs["BM_SimdjsonDom"], mbs["BM_SimdjsonOnDemandAll"])
    name_only = mbs["BM_SimdjsonOnDemand"]
    page = rows["BM_PageSlim"]
    out("## 8. Kubernetes list decoding versus simdjson")
    out("")
    out(f"`bench/kube_json_bench`: one PodList page of "
        f"{page['items']:.0f} realistic pods (containers with env, probes "
        f"and mounts, volumes, managedFields, container statuses; "
        f"{page['page_bytes'] / page['items'] / 1e3:.1f} KB a pod, "
        f"{page['page_bytes'] / 1e6:.2f} MB), decoded into what the "
        "reflector's slim store holds, against simdjson parsing the same "
        "bytes, in one run; MB/s of page bytes (CPU time). Target: list "
        "decoding at least 0.5x simdjson, taken as simdjson checking the "
        "whole page as a decoder must (the faster of its DOM parse and "
        "On-Demand reading every value).")
    out("")
    out("| decoder | checks the whole page | MB/s | / simdjson checking "
        "it | / On-Demand, names only |")
    out("|---|---|---:|---:|---:|")
    names = {
        "BM_PageNlohmann": "before: nlohmann parse, SlimObject, dump per item",
        "BM_PageSlim": "client/kube now: simdjson stage 1, own walk, kept "
                       f"part written out "
                       f"({page['kept_bytes'] / page['page_bytes'] * 100:.0f}% "
                       "of the bytes)",
        "BM_SimdjsonDom": "simdjson DOM, each item's name",
        "BM_SimdjsonOnDemandAll": "simdjson On-Demand, every value read",
        "BM_SimdjsonOnDemand": "simdjson On-Demand, each item's name only",
    }
    for n in need:
        bold = n in ("BM_PageNlohmann", "BM_PageSlim")
        cells = [f"{mbs[n] / checking:.2f}", f"{mbs[n] / name_only:.2f}"]
        if bold:
            cells[0] = f"**{cells[0]}**"
        checks = "no" if n == "BM_SimdjsonOnDemand" else "yes"
        out(f"| {names[n]} | {checks} | {mbs[n]:.0f} | {cells[0]} | "
            f"{cells[1]} |")
    out("")
    out("Before, client/kube parsed each page into an nlohmann::json tree of "
        "the whole page, slimmed each item and dumped it. Now "
        "(`client/kube/slim.h`, `PageDecoder`) simdjson's stage 1 finds the "
        "page's structural characters and checks its UTF-8 and raw string "
        "bytes; client/kube's own walk of those characters then checks the "
        "grammar, escapes, numbers and literals of the whole page, and "
        "writes out only what the slim store keeps, as the exact text "
        "nlohmann's `dump()` gave (sorted keys, last duplicate wins, same "
        "escapes). What it drops is checked but never copied or unescaped. "
        "The name-only On-Demand run is a bound, not a decoder: it leaves "
        "the rest of the page unchecked, and takes `[1 2]`, `tru` or "
        "`\"\\q\"` there, which this decoder refuses as nlohmann does "
        "(`reflector_test`'s `BadPageTest`).")
    out("")


def adapter_scale_section(measured, out):
    """9. dsd-adapter at scale (issue 14, bench.sh step 10)."""
    runs = []
    for name in sorted(os.listdir(measured)):
        if name.startswith("adapter-scale-") and name.endswith(".json"):
            try:
                runs.append(load(os.path.join(measured, name)))
            except ValueError:
                continue
    runs = [r for r in runs if r.get("initial_sync_seconds", -1) >= 0]
    if not runs:
        return
    runs.sort(key=lambda r: r["pods"])
    out("## 9. dsd-adapter at scale")
    out("")
    out("`bench/adapter_scale`: the fake API server (`tests/kube`) holding "
        "the synthetic cluster as Kubernetes objects, a dsd-server and "
        "`dsd-adapter --drift_after 0` against them, in one run: the initial "
        "sync (adapter start to its first Decide done) and the time from a "
        "Node applied to the fake until the adapter logs that node's drift "
        "(its DaemonSets' creates; each node added after a quiet second, "
        "longer than the adapter's --debounce), each over one Decide of the same "
        "snapshot (this program loads the objects as the adapter does and "
        "calls Decide with explain; a node event affects every DaemonSet, so "
        "the affected scope is the whole snapshot); the adapter's peak RSS "
        "over the snapshot's protobuf bytes. The fake holds the objects "
        "without what the slim store drops anyway (`--lean`). Targets: "
        "reaction p99 <= 1.5x one Decide; RSS <= 3x the snapshot.")
    out("")
    out("| nodes | DaemonSets | pods | snapshot MB | one Decide s | "
        "initial sync s | sync / Decide | reaction p50 s | reaction p99 s | "
        "**p99 / Decide** | adapter peak RSS MB | **RSS / snapshot** |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        d = r["one_decide_seconds"]
        out(f"| {r['nodes']} | {r['daemon_sets']} | {r['pods']} | "
            f"{r['snapshot_bytes'] / 1e6:.1f} | {d:.2f} | "
            f"{r['initial_sync_seconds']:.1f} | "
            f"{r['initial_sync_seconds'] / d:.0f} | "
            f"{r['reaction_p50_seconds']:.2f} | "
            f"{r['reaction_p99_seconds']:.2f} | "
            f"**{r['reaction_p99_seconds'] / d:.1f}** | "
            f"{r['adapter_peak_rss_bytes'] / 1e6:.0f} | "
            f"**{r['adapter_peak_rss_bytes'] / r['snapshot_bytes']:.1f}** |")
    out("")



def soak_section(docs, out):
    """10. make soak's last report (scripts/soak.sh writes docs/soak.md)."""
    path = os.path.join(docs, "soak.md")
    if not os.path.exists(path):
        return
    with open(path) as f:
        text = f.read().rstrip("\n")
    out(text.replace("## Soak (make soak)", "## 10. Soak (make soak)", 1))
    out("")

def apply_scale_section(measured, out):
    """11. dsd-adapter --mode=apply rolling a DaemonSet out (issue 15,
    bench.sh step 11)."""
    path = os.path.join(measured, "apply-scale.json")
    if not os.path.exists(path):
        return
    try:
        r = load(path)
    except ValueError:
        return
    if r.get("pods_created", 0) <= 0:
        return
    out("## 11. dsd-adapter --mode=apply: a DaemonSet rolled out")
    out("")
    out("`bench/apply_scale`: the fake API server holding the nodes (it "
        "binds each created pod and makes it Running and Ready), a "
        "dsd-server, and `dsd-adapter --mode=apply --kube_api_qps Q "
        "--kube_api_burst B` as a new DaemonSet appears, in one run: the "
        "create rate after the first B creates (the fake's request times; "
        "target 0.9 Q to Q); a Node added, until the POST of its pod reaches "
        "the fake, each after a quiet second, over one Decide of the "
        "affected scope (every node, the DaemonSet and its pods; this "
        "program calls Decide as the adapter's full round does; target p99 "
        "<= 1.5x), with one Decide of a single node and the DaemonSet "
        "beside it (what the adapter decides for an added node); then half "
        "as many nodes added 5 ms after another node's relabelling started "
        "a round over every node (\"busy\"); the adapter's CPU per 1,000 "
        "pod events (three a pod: added, bound, Ready) over the rollout.")
    out("")
    out("| nodes | Q / B | rollout s | creates/s after B | **rate / Q** | "
        "one Decide ms (p99) | one node's Decide ms | node to POST p50 ms | "
        "p99 ms | **p99 / Decide** | busy: p50 ms | busy: p99 ms | "
        "adapter CPU s per 1,000 pod events |")
    out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    d = r["one_decide_seconds"]
    d99 = r.get("decide_p99_seconds", d)

    def ms(key):  # -1000: not measured
        return r.get(key, -1) * 1e3

    out(f"| {r['nodes']} | {r['kube_api_qps']} / {r['kube_api_burst']} | "
        f"{r['rollout_seconds']:.1f} | {r['create_rate_after_burst']:.1f} | "
        f"**{r['create_rate_over_qps']:.2f}** | {d * 1e3:.1f} "
        f"({d99 * 1e3:.1f}) | {ms('node_decide_seconds'):.1f} | "
        f"{r['node_added_to_post_p50_seconds'] * 1e3:.1f} | "
        f"{r['node_added_to_post_p99_seconds'] * 1e3:.1f} | "
        f"**{r['node_added_to_post_p99_seconds'] / d:.2f}** | "
        f"{ms('busy_node_added_to_post_p50_seconds'):.1f} | "
        f"{ms('busy_node_added_to_post_p99_seconds'):.1f} | "
        f"{r['adapter_cpu_seconds_per_1000_pod_events']:.2f} |")
    out("")


def kube_client_section(measured, out):
    """12. One GET on a kept kube Client against a new one each time
    (issue 15, bench.sh step 12)."""
    path = os.path.join(measured, "kube-client.json")
    if not os.path.exists(path):
        return
    rows = {(r["https"], r["reuse"]): r
            for r in bench_rows(path, "BM_Get/") if "error_occurred" not in r}
    out("## 12. The Kubernetes client's kept connections")
    out("")
    out("`bench/kube_client_bench`: one GET of a Node from the fake API "
        "server (in process; https with a self-signed RSA-2048 "
        "certificate), on one kube Client for every request (kept-alive "
        "connections and TLS sessions, as dsd-adapter and dsd-extender "
        "make them now) against a new Client for each (a new connection, "
        "and handshake, every time, as before), in one run. CPU is the "
        "client thread's. POSTs still get a connection of their own "
        "(README, the Kubernetes API client).")
    out("")
    out("| scheme | new connection: us / GET (CPU us) | kept: us / GET "
        "(CPU us) | **time new / kept** | CPU new / kept |")
    out("|---|---:|---:|---:|---:|")
    for https, scheme in ((0, "http"), (1, "https")):
        new, kept = rows.get((https, 0)), rows.get((https, 1))
        if new is None or kept is None:
            continue
        out(f"| {scheme} | {new['real_time']:.0f} ({new['cpu_time']:.0f}) | "
            f"{kept['real_time']:.0f} ({kept['cpu_time']:.0f}) | "
            f"**{new['real_time'] / kept['real_time']:.1f}** | "
            f"{new['cpu_time'] / kept['cpu_time']:.1f} |")
    out("")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
