#!/usr/bin/env bash
# Two "hosts" on one machine (docs/distributed.md): two network namespaces joined by a veth pair on a
# private subnet, Open MPI's launcher reaching the second one through `ip netns exec` where it would
# normally use ssh, and every rank talking over TCP between the namespaces. The quick job runs on one
# process and on 2 ranks (one per namespace); the trajectories must be identical and every metric within
# tests/dist/mpi.py's tolerance. The namespaces share this machine's file system, which plays the shared
# run directory. Needs root, iproute2 and openmpi-bin; exits 77 (skip) without them.
#
#   bench/train/two_hosts.sh [STEPS]        # HIPER names the binary (default build/hiper, built with MPI)
set -euo pipefail
steps=${1:-2}
here=$(cd "$(dirname "$0")/../.." && pwd)
hiper=${HIPER:-$here/build/hiper}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ip netns add)"; exit 77; }
for c in ip mpirun; do command -v $c >/dev/null || { echo "SKIP: $c not found (iproute2, openmpi-bin)"; exit 77; }; done
tmp=$(mktemp -d)
A=hpa$$ B=hpb$$
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add "v$A" type veth peer name "v$B"
ip link set "v$A" netns "$A"
ip link set "v$B" netns "$B"
ip -n "$A" addr add 10.99.0.1/24 dev "v$A"
ip -n "$B" addr add 10.99.0.2/24 dev "v$B"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "v$A" up
ip -n "$B" link set "v$B" up
# Open MPI starts its daemon on a remote host with `AGENT HOST COMMAND...` (ssh by default)
cat >"$tmp/rsh" <<EOF
#!/bin/sh
host=\$1; shift
case \$host in 10.99.0.1) ns=$A ;; 10.99.0.2) ns=$B ;; *) echo "no such host: \$host" >&2; exit 255 ;; esac
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x "$tmp/rsh"
printf '10.99.0.1 slots=1\n10.99.0.2 slots=1\n' >"$tmp/hostfile"
mpi=(mpirun --allow-run-as-root --hostfile "$tmp/hostfile" -np 2 --map-by node --bind-to none -x OMP_NUM_THREADS=1
     --mca plm_rsh_agent "$tmp/rsh" --mca oob_tcp_if_include 10.99.0.0/24
     --mca btl tcp,self --mca btl_tcp_if_include 10.99.0.0/24)
ip netns exec "$A" "${mpi[@]}" sh -c 'echo "rank $OMPI_COMM_WORLD_RANK: network namespace $(ip netns identify)"'
job=("$hiper" train --config "$here/configs/hiper_alfworld_quick.json" trainer.total_steps="$steps"
     trainer.log_rollouts=true trainer.final_eval_episodes=0 trainer.test_freq=0 trainer.threads=1 --quiet)
OMP_NUM_THREADS=1 "${job[@]}" --out "$tmp/one"
ip netns exec "$A" "${mpi[@]}" "${job[@]}" --out "$tmp/two"
cmp "$tmp/one/rollouts.jsonl" "$tmp/two/rollouts.jsonl"
(cd "$here/tests/dist" && PYTHONDONTWRITEBYTECODE=1 python3 -c "import mpi, sys; mpi.same_metrics(sys.argv[1], sys.argv[2], exact=False)" \
  "$tmp/one" "$tmp/two")
echo "OK: $(wc -l <"$tmp/one/rollouts.jsonl") trajectories identical across the two namespaces; metrics within tolerance"
