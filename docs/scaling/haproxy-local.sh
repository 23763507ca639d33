#!/bin/sh
# A tested local example of docs/SCALING.md: two lwstcp servers and HAProxy on 127.0.0.1.
# Needs haproxy (Debian: apt-get install -y haproxy) and a build (npm run build). Not part of
# npm test. Runs FizzBuzz-free echo clients and lwstcp-bench through the balancer, checks that
# both servers took sessions, and cleans up. Exit 0 when everything checked out.
set -eu
cd "$(dirname "$0")/../.."
command -v haproxy >/dev/null || { echo "haproxy is not installed (apt-get install -y haproxy)"; exit 2; }
[ -f build/server/cli/lwstcp-server.js ] || { echo "run npm run build first"; exit 2; }

KEY=${LWSTCP_KEY:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')}
export LWSTCP_KEY="$KEY"
FRONT=${FRONT:-17100}; S1=${S1:-17101}; S2=${S2:-17102}
WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

node build/server/cli/lwstcp-server.js --host 127.0.0.1 --port "$S1" --mode echo --log json >"$WORK/s1.log" 2>&1 & PIDS="$PIDS $!"
node build/server/cli/lwstcp-server.js --host 127.0.0.1 --port "$S2" --mode echo --log json >"$WORK/s2.log" 2>&1 & PIDS="$PIDS $!"
for log in "$WORK/s1.log" "$WORK/s2.log"; do
  for _ in $(seq 50); do grep -q '"started"' "$log" && break; sleep 0.1; done
done
sed -e "s/@FRONT@/$FRONT/" -e "s/@S1@/$S1/" -e "s/@S2@/$S2/" docs/scaling/haproxy.cfg >"$WORK/haproxy.cfg"
haproxy -c -f "$WORK/haproxy.cfg" >/dev/null
haproxy -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & PIDS="$PIDS $!"
sleep 1.5

echo "== 4 echo clients through HAProxy (127.0.0.1:$FRONT)"
for i in 1 2 3 4; do
  node build/server/cli/lwstcp-client.js --host 127.0.0.1 --port "$FRONT" --mode echo --sizes 1,16,1000,65528 2>/dev/null | tail -1
done
echo "== lwstcp-bench: 40 sessions, 2 s"
node build/server/cli/lwstcp-bench.js --host 127.0.0.1 --port "$FRONT" --sessions 40 --duration 2 2>/dev/null

grep -E "is (UP|DOWN)" "$WORK/haproxy.log" || true
ok1=$(grep -c '"handshake-success"' "$WORK/s1.log" || true)
ok2=$(grep -c '"handshake-success"' "$WORK/s2.log" || true)
echo "== sessions per server: s1 $ok1, s2 $ok2 (HAProxy health checks appear as failed handshakes)"
[ "$ok1" -gt 0 ] && [ "$ok2" -gt 0 ] && [ $((ok1 + ok2)) -eq 44 ] || { echo "FAILED: expected 44 sessions spread over both servers"; exit 1; }

echo "== s1 stops; 4 more clients must reach s2 (HAProxy redispatches a refused connection)"
kill "$(echo $PIDS | cut -d' ' -f1)"
sleep 0.5
for i in 1 2 3 4; do
  node build/server/cli/lwstcp-client.js --host 127.0.0.1 --port "$FRONT" --mode echo --sizes 16 2>/dev/null | tail -1
done
ok2b=$(grep -c '"handshake-success"' "$WORK/s2.log" || true)
[ $((ok2b - ok2)) -eq 4 ] || { echo "FAILED: expected 4 more sessions on s2, got $((ok2b - ok2))"; exit 1; }
echo "OK: both servers served sessions through the balancer, and s2 took over when s1 stopped"
