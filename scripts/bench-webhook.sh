#!/usr/bin/env bash
# bench-webhook.sh: load test of `wasmcert serve` on loopback (target: p99 <= 10 ms at 200
# requests/s for cached digests, no errors, memory flat over 10 000 requests), side by side
# with a do-nothing peer: a minimal Python HTTPS webhook (http.server + ssl, the usual
# hand-written admission hook) that allows every review without looking at it, under the same
# load. Prints both latency distributions and the p99 ratio.
#
# A real registry (Debian docker-registry) holds the artifact; the pod names it by tag, so the
# webhook resolves it (cached for --tag-ttl) and reuses the decision (cached by digest). The
# load is wrk (Debian) with a Lua pacing script: 10 connections, each pausing 50 ms between
# requests, about 200 requests/s; then an unpaced run for the throughput ceiling.
#
# After the paced run, /metrics is scraped from the webhook's plain-HTTP metrics listener
# (--metrics-addr) and parsed by an independent parser, PyPI prometheus-client's
# text_string_to_metric_families: the review counter must equal the reviews wrk completed plus
# the warm-up (plus at most one per connection that wrk cut off at the end, which the server
# still answered), the decisions must add up to it, the latency histogram must have counted
# every review, and its p99 (interpolated in its buckets) is printed beside wrk's.
#
# Usage: scripts/bench-webhook.sh [SECONDS]   (default 60: 12 000 requests at 200/s)
# Needs scripts/install-oci-tools.sh (docker-registry, skopeo, wrk) and
# scripts/install-policy-tools.sh (the parser, in .ci/tools/policy-venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECS="${1:-60}"
for t in docker-registry skopeo wrk openssl python3; do
  command -v "$t" >/dev/null || { echo "bench-webhook: $t missing (scripts/install-oci-tools.sh)" >&2; exit 2; }
done
PARSER="$ROOT/.ci/tools/policy-venv/bin/python"
"$PARSER" -c 'import prometheus_client.parser' 2>/dev/null \
  || { echo "bench-webhook: PyPI prometheus-client missing (scripts/install-policy-tools.sh)" >&2; exit 2; }
cargo build --release --locked -q
cargo build --release --locked -q -p wasmcert-oci --example write_layout
WC="$ROOT/target/release/wasmcert"
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Registry and artifact.
RP=$(port)
cat > "$TMP/registry.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $TMP/registry } }
http: { addr: 127.0.0.1:$RP }
YML
docker-registry serve "$TMP/registry.yml" >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$RP) 2>/dev/null && break; sleep 0.1; done
"$ROOT/target/release/examples/write_layout" "$TMP/layout" app
skopeo copy --quiet --dest-tls-verify=false oci:"$TMP/layout":app docker://127.0.0.1:$RP/wasm/app:v1
IMAGE="127.0.0.1:$RP/wasm/app:v1"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bench \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/k.pem" -out "$TMP/c.pem" 2>/dev/null
sed -e "s|IMAGE_APP|$IMAGE|; s|IMAGE_INIT|$IMAGE|" webhook/tests/data/pod-wasm.json > "$TMP/review.json"

WP=$(port); MP=$(port)
"$WC" serve --policy pack:baseline --allow-tags --listen 127.0.0.1:$WP --tls-cert "$TMP/c.pem" --tls-key "$TMP/k.pem" \
  --metrics-addr 127.0.0.1:$MP 2>"$TMP/serve.log" & WPID=$!; PIDS+=($WPID)
PP=$(port)
python3 - "$PP" "$TMP/c.pem" "$TMP/k.pem" >/dev/null 2>&1 <<'PY' & PIDS+=($!)
import http.server, json, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": {"uid": review["request"]["uid"], "allowed": True}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True); srv.serve_forever()
PY
for p in $WP $PP; do for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done

# Warm the caches: one review resolves, pulls, analyses and decides.
curl -sS --cacert "$TMP/c.pem" --data-binary @"$TMP/review.json" https://127.0.0.1:$WP/validate | grep -q '"allowed":true' \
  || { echo "bench-webhook: the first review was not allowed" >&2; cat "$TMP/serve.log" >&2; exit 1; }

cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$TMP/review.json", "rb"); wrk.body = f:read("*a"); f:close()
local paced = os.getenv("PACED") == "1"
function delay() if paced then return 50 end return 0 end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_http=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f rps=%.1f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
LUA
rss() { awk '/VmRSS/ {print $2}' /proc/$WPID/status; }
run() { PACED="$1" wrk -t2 -c"$2" -d"$3"s --timeout 5s -s "$TMP/post.lua" "https://127.0.0.1:$4/validate" 2>&1 | grep RESULT; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

rss0=$(rss)
W=$(run 1 10 "$SECS" $WP)
rss1=$(rss)
P=$(run 1 10 "$SECS" $PP)
echo "== paced load, 10 connections x 1 request / 50 ms (~200/s), ${SECS}s each"
printf '%-10s %9s %7s %8s %8s %8s %8s %8s\n' server requests errors p50_ms p90_ms p99_ms max_ms rps
for pair in "wasmcert:$W" "python:$P"; do
  n="${pair%%:*}"; r="${pair#*:}"
  printf '%-10s %9s %7s %8s %8s %8s %8s %8s\n' "$n" "$(field requests <<<"$r")" "$(field errors_http <<<"$r")" \
    "$(field p50_ms <<<"$r")" "$(field p90_ms <<<"$r")" "$(field p99_ms <<<"$r")" "$(field max_ms <<<"$r")" "$(field rps <<<"$r")"
done
wp99=$(field p99_ms <<<"$W"); pp99=$(field p99_ms <<<"$P")
echo "p99 ratio wasmcert / python: $(awk -v a="$wp99" -v b="$pp99" 'BEGIN { printf "%.2fx", a / b }')"
echo "wasmcert RSS: ${rss0} kB before, ${rss1} kB after $(field requests <<<"$W") requests ($(( rss1 - rss0 )) kB)"
stats=$(curl -sS --cacert "$TMP/c.pem" https://127.0.0.1:$WP/stats)
echo "wasmcert stats: $stats"
# The scrape, read by the independent parser; compared with what wrk saw.
curl -sS "http://127.0.0.1:$MP/metrics" > "$TMP/metrics.txt"
echo "== /metrics after the paced run (parsed by PyPI prometheus-client)"
"$PARSER" - "$TMP/metrics.txt" "$(field requests <<<"$W")" 10 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, sent, conns = sys.argv[1], int(sys.argv[2]) + 1, int(sys.argv[3])  # + the warm-up
fams = {f.name: f for f in text_string_to_metric_families(open(path).read())}
reviews = {(s.labels["decision"], s.labels["reason"]): s.value
           for s in fams["wasmcert_webhook_reviews"].samples if s.name.endswith("_total")}
total = sum(reviews.values())
hist = fams["wasmcert_webhook_review_duration_seconds"].samples
count = next(s.value for s in hist if s.name.endswith("_count"))
buckets = sorted((float(s.labels["le"]), s.value) for s in hist if s.name.endswith("_bucket"))
def quantile(q):
    rank, lo, below = q * count, 0.0, 0.0
    for le, n in buckets:
        if n >= rank:
            return lo + (le - lo) * (rank - below) / max(n - below, 1) if le != float("inf") else lo
        lo, below = le, n
decisions = {}
for (d, r), v in reviews.items():
    decisions[d] = decisions.get(d, 0) + v
print("reviews_total %d (wrk completed %d + warm-up 1); by decision: %s" % (total, sent - 1,
      ", ".join("%s %d" % kv for kv in sorted(decisions.items()))))
print("by reason: " + ", ".join("%s %d" % (r, v) for (d, r), v in sorted(reviews.items()) if v))
print("review_duration_seconds count %d, p99 from the buckets %.2f ms" % (count, quantile(0.99) * 1000))
for s in fams["wasmcert_webhook_cache_lookups"].samples:
    if s.value:
        print("cache %s %s %d" % (s.labels["cache"], s.labels["result"], s.value))
miss = []
if not sent <= total <= sent + conns:
    miss.append("reviews_total %d is not the %d reviews sent (+ at most %d cut off)" % (total, sent, conns))
if count != total:
    miss.append("the histogram counted %d reviews, the counter %d" % (count, total))
# A request wrk cut off at the end may be cancelled server-side: at most one per connection.
cancelled = reviews.get(("error", "cancelled"), 0)
if decisions.get("error", 0) - min(cancelled, conns):
    miss.append("%d reviews were errors" % decisions["error"])
for m in miss:
    print("MISS: " + m)
PY
echo "== unpaced (throughput ceiling), 16 connections, 10s each"
U=$(run 0 16 10 $WP); UP=$(run 0 16 10 $PP)
echo "wasmcert: $(field rps <<<"$U") req/s, p99 $(field p99_ms <<<"$U") ms, errors $(field errors_http <<<"$U")"
echo "python:   $(field rps <<<"$UP") req/s, p99 $(field p99_ms <<<"$UP") ms, errors $(field errors_http <<<"$UP")"
awk -v p="$wp99" -v e="$(field errors_http <<<"$W")" -v g="$(( rss1 - rss0 ))" 'BEGIN {
  if (p > 10) print "MISS: p99 " p " ms > 10 ms"; if (e > 0) print "MISS: " e " errors"; if (g > 10240) print "MISS: RSS grew " g " kB" }'
