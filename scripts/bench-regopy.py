#!/usr/bin/env python3
"""bench-regopy.py: the peer for scripts/bench-policy.sh. Evaluates a Rego policy on an
Analysis JSON document with regopy (PyPI; Microsoft's rego-cpp interpreter), the way wasmcert
does per decision: set the input, query data.wasmcert.deny and data.wasmcert.warn. Prints the
median and best batch in microseconds per decision on one line, like bench_policy.

    bench-regopy.py POLICY.rego ANALYSIS.json [DECISIONS_PER_BATCH]
"""
import json
import sys
import time

import regopy

BATCHES = 21


def main():
    policy, analysis = sys.argv[1], sys.argv[2]
    per_batch = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    text = open(analysis, encoding="utf-8").read()
    interp = regopy.Interpreter()
    interp.add_module(policy, open(policy, encoding="utf-8").read())

    def decide():
        interp.set_input_term(text)
        deny = interp.query("data.wasmcert.deny")
        warn = interp.query("data.wasmcert.warn")
        return deny, warn

    deny, _ = decide()
    denied = json.loads(str(deny))["expressions"][0] != []
    times = []
    for _ in range(BATCHES):
        t = time.perf_counter()
        for _ in range(per_batch):
            decide()
        times.append((time.perf_counter() - t) * 1e6 / per_batch)
    times.sort()
    print(f"{policy} {analysis} median_us={times[BATCHES // 2]:.2f} min_us={times[0]:.2f} denied={str(denied).lower()}")


if __name__ == "__main__":
    main()
