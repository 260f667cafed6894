#!/usr/bin/env bash
# Stops the cluster .ci/slurm-up.sh started in STATE_DIR: only the processes whose PIDs it
# recorded (a munged it found running is left alone), then removes the network namespace.
#
# Usage: .ci/slurm-down.sh STATE_DIR
set -uo pipefail

state=${1:?usage: slurm-down.sh STATE_DIR}
netns=${AUTOWF_SLURM_NETNS:-autowf-slurm}

stop() {
    local file=$state/pids/$1.started pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null && echo "slurm-down: $1 ($pid) needed SIGKILL" >&2
    fi
    rm -f "$file"
}

# The daemons first, then the authentication they use.
stop slurmd
stop slurmctld
stop munged
ip netns del "$netns" 2>/dev/null || true
