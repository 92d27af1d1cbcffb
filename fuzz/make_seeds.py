#!/usr/bin/env python3
"""Writes the request fuzzer's seed corpus (fuzz/corpus/request/seed-*).

Usage: python3 fuzz/make_seeds.py build/release/bin/dsdctl

Each seed is the input CheckServiceRequest reads (fuzz/checks.h): a byte
choosing the method (0 Decide, 1 Explain, 2 Validate, 3 Filter), a byte
choosing the stream's chunk size, then the request's protobuf bytes.
Requests come from `dsdctl load --write-request` (examples/ and small
synthetic clusters); Explain and Filter requests and a few malformed ones
are derived here on the wire. The seeds are checked in: run this again
only to refresh them (crash inputs are kept under their own names).
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus", "request")
DECIDE, EXPLAIN, VALIDATE, FILTER = 0, 1, 2, 3


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, payload):
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def read_varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(data):
    """(number, wire type, payload bytes) of each field of a message."""
    i = 0
    while i < len(data):
        tag, i = read_varint(data, i)
        number, wire = tag >> 3, tag & 7
        if wire == 2:
            n, i = read_varint(data, i)
            yield number, wire, data[i:i + n]
            i += n
        elif wire == 0:
            start = i
            _, i = read_varint(data, i)
            yield number, wire, data[start:i]
        else:
            raise ValueError("unexpected wire type %d" % wire)


def request(dsdctl, args):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "req")
        subprocess.run([dsdctl, "load", "--write-request", path] + args,
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(path, "rb") as f:
            return f.read()


def snapshot_of(req):
    return b"".join(p for n, _, p in fields(req) if n == 1)


def filter_request(req, options=b""):
    snap = snapshot_of(req)
    nodes = [p for n, _, p in fields(snap) if n == 1]
    sets = [p for n, _, p in fields(snap) if n == 2]
    out = field(1, sets[0]) if sets else b""
    for node in nodes:
        out += field(2, node)
    if options:
        out += field(3, options)
    return out


def requirement(key, operator, values):
    """A SelectorRequirement: operator 1 is In, 2 NotIn."""
    return field(1, key) + varint(2 << 3) + varint(operator) + b"".join(
        field(3, v) for v in values)


def with_selector_values(req, bad=False):
    """`req` with requirement values in every list of its first DaemonSet:
    fields appended to its bytes, which protobuf merges into the message
    (the reader takes values out of a DaemonSet's bytes itself)."""
    zones = [b"zone-a", b"zone-b"] + ([b"not a value!"] if bad else [])
    extra = field(10, field(4, field(1, field(
        1, requirement(b"topology.kubernetes.io/zone", 1, zones)) + field(
        2, requirement(b"metadata.name", 2, [b"node-00001"]))))) + field(
        9, field(2, requirement(b"app", 2, [b"nothing", b"none"]))) + field(
        11, field(12, field(2, requirement(
            b"topology.kubernetes.io/zone", 1, [b"zone-b"]))))
    out = b""
    done = False
    for number, wire, payload in fields(req):
        if number == 1 and wire == 2 and not done:
            snap = b""
            for n, w, p in fields(payload):
                if n == 2 and not done:
                    p += extra
                    done = True
                snap += field(n, p)
            payload = snap
        out += field(number, payload) if wire == 2 else varint(
            number << 3 | wire) + payload
    return out


def main():
    dsdctl = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    now = ["--now", "2026-01-02T03:04:05Z"]
    examples = {
        "ssd-cluster": "examples/ssd-monitor/01-cluster.yaml",
        "ssd-relabel": "examples/ssd-monitor/02-after-relabel.yaml",
        "canary": "examples/rollout/01-canary.yaml",
        "partition": "examples/rollout/02-partition.yaml",
        "paused": "examples/rollout/03-paused.yaml",
    }
    for chunk, (name, path) in enumerate(examples.items()):
        args = ["-f", os.path.join(ROOT, path)] + now
        decide = request(dsdctl, args)
        seeds["decide-" + name] = bytes([DECIDE, chunk * 7]) + decide
        seeds["validate-" + name] = bytes([VALIDATE, chunk * 5]) + request(
            dsdctl, args + ["--method", "validate"])
        seeds["filter-" + name] = bytes([FILTER, 0]) + filter_request(decide)
    # Explain: a DecideRequest is an ExplainRequest (fields 1 to 3); add
    # daemon_set (4) and node (5).
    relabel = request(dsdctl, ["-f", os.path.join(ROOT, examples["ssd-relabel"])] + now)
    seeds["explain-all"] = bytes([EXPLAIN, 3]) + relabel
    seeds["explain-ds"] = bytes([EXPLAIN, 0]) + relabel + field(
        4, b"default/ssd-monitor")
    seeds["explain-ds-node"] = bytes([EXPLAIN, 1]) + relabel + field(
        4, b"default/ssd-monitor") + field(5, b"k8s-node1")
    seeds["explain-missing-node"] = bytes([EXPLAIN, 0]) + relabel + field(
        5, b"no-such-node")
    # Small synthetic clusters with each decision option.
    synthetic = ["--nodes", "4", "--daemonsets", "2", "--pods_per_node", "1",
                 "--control_plane_nodes", "1"]
    for name, extra in {
        "plain": [],
        "taint-eviction": ["--taint-eviction"],
        "one-sync": ["--one-sync"],
        "k8s-1.20": ["--kubernetes-version", "1.20"],
        "comparison-gate": ["--feature-gates",
                            "TaintTolerationComparisonOperators=true"],
    }.items():
        req = request(dsdctl, synthetic + extra)
        seeds["decide-synthetic-" + name] = bytes([DECIDE, 0]) + req
        seeds["explain-synthetic-" + name] = bytes([EXPLAIN, 0]) + req
        seeds["validate-synthetic-" + name] = bytes([VALIDATE, 0]) + request(
            dsdctl, synthetic + extra + ["--method", "validate"])
        seeds["filter-synthetic-" + name] = bytes([FILTER, 0]) + filter_request(req)
    # Requirement values in every list of a DaemonSet, valid and not.
    plain = request(dsdctl, synthetic)
    seeds["decide-selector-values"] = bytes([DECIDE, 5]) + with_selector_values(
        plain)
    seeds["validate-selector-values-bad"] = bytes(
        [VALIDATE, 0]) + with_selector_values(plain, bad=True)
    seeds["filter-selector-values"] = bytes([FILTER, 0]) + filter_request(
        with_selector_values(plain))
    # An unscheduled pod of over 2,002 bytes targeted through matchFields:
    # the reader takes its values out of its bytes too. Appended as a
    # snapshot occurrence of its own (protobuf merges them).
    large_pod = field(1, b"default") + field(2, b"large-pod") + field(
        3, b"large-pod-uid") + field(9, field(1, field(1, requirement(
            b"topology.kubernetes.io/zone", 1,
            [b"zone-%d" % i for i in range(500)])) + field(2, requirement(
                b"metadata.name", 1, [b"node-00001"]))))
    seeds["decide-large-pod-values"] = bytes([DECIDE, 3]) + plain + field(
        1, field(3, large_pod))
    # Malformed and invalid: truncated, a lying length, an unknown group,
    # an invalid label, two snapshot fields (merged by protobuf).
    seeds["decide-truncated"] = bytes([DECIDE, 0]) + relabel[:len(relabel) // 2]
    seeds["decide-long-length"] = bytes([DECIDE, 0]) + b"\x0a\x82\x80\x80\x80\x10"
    seeds["decide-unknown-group"] = bytes([DECIDE, 0]) + b"\x4b\x08\x01\x4c" + relabel
    bad_node = field(1, field(2, field(1, b"not a key!") + field(2, b"v")))
    seeds["decide-invalid-label"] = bytes([DECIDE, 0]) + field(1, bad_node)
    seeds["validate-invalid-label"] = bytes([VALIDATE, 0]) + field(1, bad_node)
    seeds["decide-three-snapshots"] = bytes([DECIDE, 2]) + field(
        1, b"") + relabel + field(1, bad_node)
    for name, data in seeds.items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds), OUT))


if __name__ == "__main__":
    main()
