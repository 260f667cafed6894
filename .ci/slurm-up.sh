#!/usr/bin/env bash
# Starts a throw-away, single-node Slurm cluster for the Slurm integration tests: munged,
# slurmctld and slurmd, reachable only over loopback inside the network namespace
# $AUTOWF_SLURM_NETNS (default `autowf-slurm`). Needs root and the Debian packages `slurm-wlm`
# and `munge` (this script installs nothing).
#
# Usage: .ci/slurm-up.sh [STATE_DIR]
# On success it prints two shell assignments, `SLURM_CONF='<path>'` and `NSENTER='<prefix>'`,
# and keeps them in STATE_DIR/env for callers to source. Clients (sinfo, sbatch, the tests)
# must run under that prefix with SLURM_CONF set.
set -euo pipefail

netns=${AUTOWF_SLURM_NETNS:-autowf-slurm}
state=${1:-$(mktemp -d "${TMPDIR:-/tmp}/autowf-slurm.XXXXXX")}
mkdir -p "$state"
state=$(cd "$state" && pwd)
# slurmctld runs as the `slurm` user and must reach its state directory: mktemp makes 0700.
chmod 755 "$state"

for tool in munged slurmctld slurmd sinfo nsenter ip runuser; do
    command -v "$tool" >/dev/null || { echo "slurm-up: \`$tool\` not found" >&2; exit 1; }
done

mkdir -p "$state"/{ctld,spool,logs,pids}
chown slurm:slurm "$state/ctld" "$state/logs" "$state/pids"
if ! runuser -u slurm -- test -w "$state/ctld"; then
    echo "slurm-up: user slurm cannot write $state/ctld; every directory above it must be" \
        "traversable (chmod 755)" >&2
    exit 1
fi

node=$(hostname -s)
conf="$state/slurm.conf"
cat >"$conf" <<EOF
# Written by .ci/slurm-up.sh: one node, loopback only, no accounting.
ClusterName=autowf-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CommunicationParameters=NoInAddrAny
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/pids/slurmctld.pid
SlurmdPidFile=$state/pids/slurmd.pid
SlurmctldLogFile=$state/logs/slurmctld.log
SlurmdLogFile=$state/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
SchedulerParameters=sched_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE OverSubscribe=FORCE:4 State=UP
EOF

# The namespace holds only `lo`. slurmctld listens on every address whatever the config says,
# so it must not run in the host's namespace; 127.0.0.2 is there because glibc's
# AI_ADDRCONFIG does not count 127.0.0.1, and without another address getaddrinfo fails.
ip netns add "$netns" 2>/dev/null || true
ip netns exec "$netns" ip link set lo up
ip netns exec "$netns" ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
# nsenter rather than `ip netns exec`: the latter remounts /sys without the cgroup mounts
# that slurmd reads.
ns="nsenter --net=/run/netns/$netns"

# munge talks over a Unix socket, so one munged serves both sides. An already running one
# is used as is (and left alone by slurm-down.sh).
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged >"$state/logs/munged.out" 2>&1
    for _ in $(seq 50); do
        [ -s /run/munge/munged.pid ] && break
        sleep 0.1
    done
    cp /run/munge/munged.pid "$state/pids/munged.started"
fi

$ns /usr/sbin/slurmctld -D -i -f "$conf" >"$state/logs/slurmctld.out" 2>&1 &
echo $! >"$state/pids/slurmctld.started"
$ns /usr/sbin/slurmd -D -f "$conf" >"$state/logs/slurmd.out" 2>&1 &
echo $! >"$state/pids/slurmd.started"

printf "SLURM_CONF='%s'\nNSENTER='%s'\n" "$conf" "$ns" >"$state/env"
for _ in $(seq 150); do
    if SLURM_CONF=$conf $ns sinfo -h -o %t 2>/dev/null | grep -qx idle; then
        SLURM_CONF=$conf $ns sinfo >&2
        cat "$state/env"
        exit 0
    fi
    sleep 0.2
done
echo "slurm-up: the node did not become idle within 30 s; logs in $state/logs" >&2
tail -n 20 "$state"/logs/*.log >&2 || true
exit 1
