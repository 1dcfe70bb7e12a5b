#!/usr/bin/env bash
# A real single-node Slurm on this machine, for trying the cluster executor
# (plastic sweep --executor slurm) and for its integration test.
#
#   scripts/slurm-local.sh start [DIR]   start munged, slurmctld and slurmd with
#                                        everything (config, keys, sockets, state,
#                                        logs) under DIR (default: a new temporary
#                                        folder); prints the lines to eval:
#                                          export SLURM_CONF=DIR/slurm.conf
#                                          export PLASTIC_SLURM_DIR=DIR
#   scripts/slurm-local.sh stop [DIR]    scontrol shutdown, then end the daemons
#                                        this script started, by the PIDs in DIR
#   scripts/slurm-local.sh status [DIR]  sinfo and squeue
#
# DIR defaults to $PLASTIC_SLURM_DIR for stop and status. Needs root (the jobs
# run as the submitting user, the daemons as root) and Debian's packages
# slurmctld slurmd slurm-client munge (Slurm 22.05); no systemd: a private
# munged with its own key and socket (AuthInfo=socket=...), loopback ports,
# proctrack/linuxproc and task/none (no cgroups), no accounting,
# select/cons_tres with CR_CPU, batch_sched_delay=0 (else each scheduling round
# waits 3 s) and kill_invalid_depend (else a job depending afterok on a failed
# array pends forever). Processes are only ever ended by PID, never by name.
set -euo pipefail

cmd=${1:-}
dir=${2:-${PLASTIC_SLURM_DIR:-}}

die() { echo "slurm-local: $*" >&2; exit 1; }

need() {
	for b in munged slurmctld slurmd sbatch scontrol sinfo; do
		command -v "$b" >/dev/null || die "$b not found: apt-get install slurmctld slurmd slurm-client munge"
	done
	[ "$(id -u)" = 0 ] || die "needs root (the daemons run as root)"
}

# free_port prints a TCP port on 127.0.0.1 nobody listens on, from $1 up.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

# wait_for CMD... retries CMD for up to 30 s.
wait_for() {
	local i
	for i in $(seq 1 150); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

start() {
	need
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/plastic-slurm.XXXXXX)
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -e "$dir/slurmctld.pid" ] && die "$dir already holds a running Slurm? (stop it first: $0 stop $dir)"
	chmod 700 "$dir"
	mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
	chmod 700 "$dir/munge"
	host=$(hostname -s)

	# munge: its own key, socket, pid, seed and log files.
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
	chmod 400 "$dir/munge/munge.key"
	munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
		--pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
		--log-file="$dir/munge/munged.log" --force
	wait_for test -S "$dir/munge/munge.socket" || die "munged did not start (see $dir/munge/munged.log)"

	ctld_port=$(free_port ${PLASTIC_SLURMCTLD_PORT:-16817})
	d_port=$(free_port $((ctld_port + 1)))
	node=$(slurmd -C | head -n 1 | sed -e "s/^NodeName=[^ ]*//" -e "s/ UpTime=.*//")
	cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a single-node Slurm on $host.
ClusterName=plastic
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
	export SLURM_CONF="$dir/slurm.conf"
	setsid slurmctld -D -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 </dev/null &
	echo $! >"$dir/slurmctld.daemon.pid"
	setsid slurmd -D -N "$host" -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 </dev/null &
	echo $! >"$dir/slurmd.daemon.pid"
	if ! wait_for bash -c "sinfo -h -o %T | grep -qx idle"; then
		tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir"/*.out >&2 || true
		stop_daemons
		die "the node did not come up (logs above)"
	fi
	echo "export SLURM_CONF=$SLURM_CONF"
	echo "export PLASTIC_SLURM_DIR=$dir"
}

# stop_daemons ends the daemons started from $dir, by PID.
stop_daemons() {
	export SLURM_CONF="$dir/slurm.conf"
	scontrol shutdown >/dev/null 2>&1 || true
	local f pid
	for f in slurmd.daemon.pid slurmctld.daemon.pid munge/munged.pid; do
		[ -f "$dir/$f" ] || continue
		pid=$(cat "$dir/$f")
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			kill -TERM "$pid" 2>/dev/null || true
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/$f"
	done
	rm -f "$dir/slurmctld.pid" "$dir/slurmd.pid"
}

case "$cmd" in
start) start ;;
stop)
	[ -n "$dir" ] || die "stop: which Slurm? give its DIR (or set PLASTIC_SLURM_DIR)"
	[ -f "$dir/slurm.conf" ] || die "stop: $dir holds no slurm.conf"
	stop_daemons
	echo "slurm-local: stopped ($dir kept: logs and state)"
	;;
status)
	[ -n "$dir" ] || die "status: give DIR (or set PLASTIC_SLURM_DIR)"
	export SLURM_CONF="$dir/slurm.conf"
	sinfo
	squeue
	;;
*) die "usage: $0 start [DIR] | stop [DIR] | status [DIR]" ;;
esac
