#!/usr/bin/env bats
# Faults injected (issue 8), one test each: fork failing (RLIMIT_NPROC),
# exec failing, arbor at its fd limit, a file: output on a full filesystem,
# a worker flooding stdout under prefix, a GenServer worker that never
# reads, misbehaving control clients (half a request, 1,000 at once), a
# worker that leaves 1,000 children, stopped processes at shutdown; then the
# security checks: non-root control peers, capabilities, fd leaks, a config
# file writable by others. In each: arbor stays up (or ends as its limits
# say), says what happened in one clear log line, and loses nothing.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	INI=$D/tree.ini
	LOG=$D/arbor.log
	CLIENTS=$FIXTURES/clients.py
	MNT=
	PUB=
}

teardown() {
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
	arbor_teardown
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	[ -n "$PUB" ] && rm -rf "$PUB"
	true
}

# A directory other users can read, for tests that run something as a
# user other than root (BATS_TEST_TMPDIR is private to root).
public_dir() {
	PUB=$(mktemp -d /tmp/arbor-faults.XXXXXX)
	chmod 0755 "$PUB"
}

# Outer pids of every process in arbor's namespace, PID 1 first.
ns_pids() {
	local todo p
	todo=($(arbor_inner_pid))
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		echo "$p"
		todo+=($(cat "/proc/$p/task/$p/children" 2>/dev/null))
	done
}

# field N of /proc/PID/stat (after the comm, which may hold blanks).
stat_field() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f$(($2 - 2)); }

# worker_pid PATH: the outer pid of the worker at PATH (its group leader).
worker_pid() {
	local p
	for p in $(ns_pids); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "ARBOR_PATH=$1" &&
			[ "$(stat_field "$p" 5)" = "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The outer pid of the nested supervisor at PATH, from its "started" line.
sup_pid() {
	local inner p
	inner=$(grep -E "^arbor: started $1 pid=" "$LOG" | tail -n1 | sed 's/.*pid=//')
	[ -n "$inner" ] || return 1
	for p in $(ns_pids); do
		if awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null | grep -qx "$inner"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# How many processes of the namespace are in each state: "zombies N".
zombies() {
	local p n=0
	for p in $(ns_pids); do
		[ "$(stat_field "$p" 3)" = Z ] && n=$((n + 1))
	done
	echo "$n"
}

nprocs() { ns_pids | wc -l; }
nprocs_is() { [ "$(nprocs)" -eq "$1" ]; }

# CPU ticks (user + system) PID has used.
cpu_ticks() { echo $(($(stat_field "$1" 14) + $(stat_field "$1" 15))); }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

nfds() { ls "/proc/$1/fd" | wc -l; }
fds_at_most() { [ "$(nfds "$1")" -le "$2" ]; }

ready() { wait_log "$LOG" '^arbor: ready /'; }

# running PATH: arbor says PATH is running (restarted and ready again).
running() { "$ARBORCTL" status "$1" --json | jq -e '.state == "running"' >/dev/null; }

# A worker script: $1 is its file, the rest its body (after #!/bin/bash).
script() {
	local f=$1
	shift
	printf '#!/bin/bash\n%s\n' "$*" >"$f"
	chmod 0755 "$f"
}

# --- resources ------------------------------------------------------------

@test "fault: fork fails with EAGAIN (RLIMIT_NPROC): one line per try, intensity applies" {
	# RLIMIT_NPROC binds a user that is not root: arbor runs as one, and
	# once the tree is up its limit drops below what the user runs.
	public_dir
	local uid=$((30000 + RANDOM % 20000))
	chown "$uid" "$PUB"
	cat >"$PUB/tree.ini" <<EOF
[arbor]
control_socket = $PUB/sock
[supervisor]
intensity = 3
period = 60
[worker w]
command = /bin/sleep 1000000
[worker other]
command = /bin/sleep 1000000
EOF
	chmod 0644 "$PUB/tree.ini"
	unshare -pf --mount-proc setpriv --reuid=$uid --regid=$uid --clear-groups \
		"$ARBOR" -c "$PUB/tree.ini" </dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
	ready
	# (as that user: root here may lack CAP_SYS_RESOURCE)
	setpriv --reuid=$uid --regid=$uid --clear-groups \
		prlimit --pid "$(arbor_inner_pid)" --nproc=1:1
	kill -KILL "$(worker_pid w)"
	arbor_wait
	cat "$LOG"
	[ "$status" -eq 1 ]
	assert_equal "$(count_log "$LOG" '^arbor: start failed w reason="fork w: Resource temporarily unavailable"$')" 3
	assert_equal "$(count_log "$LOG" '^arbor: restarting w restart=[123]/3 ')" 3
	grep -q '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
	! pgrep -u "$uid"
}

@test "fault: exec fails at a restart: one line per try, intensity applies" {
	script "$D/w" 'exec sleep 1000000'
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 60
[supervisor s]
intensity = 2
period = 60
[worker s/w]
command = $D/w
[worker other]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	local w
	w=$(worker_pid s/w)
	chmod 0644 "$D/w"
	kill -KILL "$w"
	wait_log "$LOG" '^arbor: gave up s '
	# s gave up after 2 restarts of s/w (3 failures); the root restarts s,
	# whose start fails the same way (its child cannot start): a crash of
	# s each time, until the root's own intensity is reached.
	arbor_wait
	cat "$LOG"
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed s/w reason=".*'"$D"'/w.*(Permission denied|permission)' "$LOG"
	assert_equal "$(count_log "$LOG" '^arbor: restarting s/w ')" 2
	grep -q '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
}

@test "fault: arbor at its fd limit: clients wait, no busy loop, one line, served later" {
	local i
	{
		echo "[supervisor]"
		for i in $(seq 1 25); do
			printf '[worker c%d]\ncommand = %s/counter\ngenserver = yes\n' "$i" "$WORKERS"
		done
	} >"$INI"
	# 100 fds: 57 for the tree, and arbor admits 50 clients
	export ARBOR_SOCKET=$D/arbor.sock
	unshare -pf --mount-proc prlimit --nofile=100:100 "$ARBOR" -c "$INI" \
		</dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
	ready
	local pid1 ticks
	pid1=$(arbor_inner_pid)
	coproc HOLD { python3 "$CLIENTS" "$ARBOR_SOCKET" hold 60; }
	HOLDER=$HOLD_PID
	read -r line <&"${HOLD[0]}"
	[[ $line == "connected 60" ]]
	wait_log "$LOG" 'control socket .*: accept: Too many open files'
	ticks=$(cpu_ticks "$pid1")
	sleep 2	# measuring: how much CPU arbor burns while it waits
	echo "CPU ticks in 2 s at the fd limit: $(($(cpu_ticks "$pid1") - ticks))"
	[ $(($(cpu_ticks "$pid1") - ticks)) -le 20 ]
	# one line, not one per retry
	cat "$LOG"
	[ "$(count_log "$LOG" 'accept: Too many open files')" -le 2 ]
	kill "$HOLDER"
	HOLDER=
	run wait_until "$ARBORCTL" ping
	assert_success
	kill -0 "$ARBOR_PID"
}

@test "fault: a worker restart at arbor's fd limit fails in one line and counts" {
	{
		echo "[supervisor]"
		echo "intensity = 1"
		echo "period = 60"
		for i in $(seq 1 25); do
			printf '[worker c%d]\ncommand = %s/counter\ngenserver = yes\n' "$i" "$WORKERS"
		done
	} >"$INI"
	export ARBOR_SOCKET=$D/arbor.sock
	unshare -pf --mount-proc prlimit --nofile=100:100 "$ARBOR" -c "$INI" \
		</dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
	ready
	# clients take what is left: arbor keeps the rest for the tree, or not
	coproc HOLD { python3 "$CLIENTS" "$ARBOR_SOCKET" hold 60; }
	HOLDER=$HOLD_PID
	read -r line <&"${HOLD[0]}"
	wait_log "$LOG" 'accept: Too many open files'
	kill -KILL "$(worker_pid c5)"
	# either it restarts (fds were kept for the tree) or it fails in one
	# line naming EMFILE and the intensity ends the tree
	wait_log "$LOG" '^arbor: (started c5 pid=|start failed c5 reason=.*Too many open files)'
	cat "$LOG"
	if grep -q '^arbor: start failed c5' "$LOG"; then
		# 24 workers stop one by one, in reverse order, as in OTP; each
		# one's exit under ASan runs its leak check, so the bound is
		# three times the usual one
		local t=$TIMEOUT
		TIMEOUT=$((t * 3))
		arbor_wait
		TIMEOUT=$t
		[ "$status" -eq 1 ]
		grep -q '^arbor: gave up /' "$LOG"
	else
		kill -0 "$ARBOR_PID"
	fi
}

@test "fault: under a small fd limit (nofile=48) a GenServer worker still gets its pipes" {
	cat >"$INI" <<EOF
[worker c]
command = $WORKERS/counter
genserver = yes
[supervisor s]
[worker s/c]
command = $WORKERS/counter
genserver = yes
EOF
	export ARBOR_SOCKET=$D/arbor.sock
	unshare -pf --mount-proc prlimit --nofile=48:48 "$ARBOR" -c "$INI" \
		</dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
	run wait_log "$LOG" '^arbor: (ready /|cannot start)'
	cat "$LOG"
	grep -q '^arbor: ready /' "$LOG"
	run "$ARBORCTL" call s/c increment
	assert_output 1
}

@test "fault: a file: output on a full filesystem fails the worker, not arbor" {
	MNT=$D/small
	mkdir -p "$MNT"
	mount -t tmpfs -o size=64k tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	mountpoint -q "$MNT"
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 60
[supervisor s]
restart = temporary
intensity = 2
period = 60
[worker s/w]
command = /bin/sleep 1000000
stdout = file:$MNT/w.log
[worker other]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready /'
	# The disk fills up while w runs (at most 128 KiB, whatever happens to
	# the mount): its restarts fail to start, naming the key, until s
	# gives up; s is temporary, so the root goes on.
	dd if=/dev/zero of="$MNT/fill" bs=4k count=32 2>/dev/null || true
	kill -KILL "$(worker_pid s/w)"
	wait_log "$LOG" '^arbor: exited s pid=[0-9]+ '
	cat "$LOG"
	grep -Eq "^arbor: start failed s/w reason=\"stdout: file:$MNT/w.log: No space left on device\"" "$LOG"
	grep -q '^arbor: gave up s reason=reached_max_restart_intensity' "$LOG"
	kill -0 "$ARBOR_PID"
	worker_pid other
	! grep -q '^arbor: gave up /' "$LOG"
}

@test "fault: a file: output whose file cannot be created says why in one line" {
	MNT=$D/small
	mkdir -p "$MNT"
	mount -t tmpfs -o size=64k,nr_inodes=2 tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	touch "$MNT/a" 2>/dev/null || true
	cat >"$INI" <<EOF
[supervisor]
intensity = 1
period = 60
[worker w]
command = /bin/sleep 1000000
stdout = file:$MNT/w.log
EOF
	arbor_bg -c "$INI"
	arbor_wait
	cat "$LOG"
	[ "$status" -eq 1 ]
	grep -Eq "^arbor: start failed w reason=\".*$MNT/w.log.*No space left on device" "$LOG"
}

# --- output ---------------------------------------------------------------

@test "fault: a worker flooding stdout under prefix: arbor stays responsive and small" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind slows arbor and grows its memory by itself"
	cat >"$INI" <<EOF
[supervisor]
intensity = 10
period = 60
[worker flood]
command = /bin/sh -c 'yes | head -c 30000000; head -c 3000000 /dev/zero | tr "\\\\0" a; exec sleep 1000000'
stdout = prefix
[worker w]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	local pid1 w
	pid1=$(arbor_inner_pid)
	wait_size "$D/arbor.out" 1000000
	# while the flood runs, the rest of the tree is served
	w=$(worker_pid w)
	kill -KILL "$w"
	wait_log "$LOG" '^arbor: started w pid='
	wait_until running w	# ping fails while w is started again, until it is ready
	run "$ARBORCTL" ping
	assert_success
	[ "$(rss_kb "$pid1")" -lt 20000 ]
	wait_until grep -q '^\[flood\] aaaa' "$D/arbor.out"
	grep -q '^\[flood\] y$' "$D/arbor.out"
	# a line with no newline is cut into pieces of 64 KiB, each prefixed
	! grep -E '^\[flood\] a{65537}' "$D/arbor.out"
}

@test "fault: prefix output to a stdout nobody reads does not block PID 1" {
	mkfifo "$D/out"
	exec 7<>"$D/out"	# a reader that never reads
	cat >"$INI" <<EOF
[supervisor]
intensity = 10
period = 60
[worker flood]
command = /bin/sh -c 'yes | head -c 10000000; exec sleep 1000000'
stdout = prefix
[worker w]
command = /bin/sleep 1000000
EOF
	export ARBOR_SOCKET=$D/arbor.sock
	unshare -pf --mount-proc "$ARBOR" -c "$INI" </dev/null >"$D/out" 2>"$LOG" &
	ARBOR_PID=$!
	ready
	local w
	w=$(worker_pid w)
	kill -KILL "$w"
	run wait_log "$LOG" '^arbor: restarting w '
	exec 7<&-
	assert_success
	run wait_until "$ARBORCTL" ping
	assert_success
}

# --- GenServer ------------------------------------------------------------

@test "fault: a GenServer worker that never reads its pipe: busy, bounded, arbor fine" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind slows arbor below the timings this fault needs"
	cat >"$INI" <<EOF
[worker deaf]
command = /bin/sleep 1000000
genserver = yes
ready = exec
[worker c]
command = $WORKERS/counter
genserver = yes
EOF
	arbor_bg -c "$INI"
	ready
	local pid1 big i busy=0
	pid1=$(arbor_inner_pid)
	big=$(head -c 60000 /dev/zero | tr '\0' x)
	for i in $(seq 1 60); do
		if ! "$ARBORCTL" cast deaf "$big" 2>"$D/cast.err"; then
			busy=1
			break
		fi
	done
	cat "$D/cast.err"
	[ "$busy" = 1 ]
	grep -q 'busy: not reading its messages' "$D/cast.err"
	run "$ARBORCTL" call deaf x --timeout 500
	assert_failure 1
	run "$ARBORCTL" call c increment
	assert_success
	assert_output 1
	[ "$(rss_kb "$pid1")" -lt 30000 ]
}

# --- the control socket ---------------------------------------------------

@test "fault: a control client that sends half a request and hangs blocks nobody" {
	cat >"$INI" <<EOF
[worker w]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	coproc HALF { python3 "$CLIENTS" "$ARBOR_SOCKET" half; }
	HOLDER=$HALF_PID
	read -r line <&"${HALF[0]}"
	[ "$line" = "sent half" ]
	run "$ARBORCTL" ping
	assert_success
	run "$ARBORCTL" status w
	assert_success
	assert_output --partial running
}

@test "fault: 1,000 control clients at once are all answered, and their fds given back" {
	cat >"$INI" <<EOF
[worker w]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	local pid1 fds
	pid1=$(arbor_inner_pid)
	fds=$(nfds "$pid1")
	run python3 "$CLIENTS" "$ARBOR_SOCKET" many 1000
	echo "$output"
	assert_success
	assert_line "answered 1000 of 1000, errors 0"
	wait_until fds_at_most "$pid1" "$fds"
	run "$ARBORCTL" ping
	assert_success
}

# --- processes ------------------------------------------------------------

@test "fault: a worker that forks 1,000 children and exits: all killed and reaped" {
	script "$D/w" "if [ ! -e $D/once ]; then
	touch $D/once
	for i in \$(seq 1000); do sleep 1000000 & done
	echo forked >$D/forked
	exit 1
fi
exec sleep 1000000"
	cat >"$INI" <<EOF
[worker w]
command = $D/w
[worker other]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	wait_file "$D/forked"
	wait_log "$LOG" '^arbor: exited w pid=[0-9]+ status=1'
	wait_until bash -c "[ \$(grep -c '^arbor: started w ' '$LOG') -ge 2 ]"
	# arbor, two workers: nothing else, no zombie
	TIMEOUT=60 wait_until nprocs_is 3
	assert_equal "$(zombies)" 0
	run "$ARBORCTL" ping
	assert_success
}

@test "fault: children that leave the worker's group (setsid) do not outlive it" {
	script "$D/w" "if [ ! -e $D/once ]; then
	touch $D/once
	for i in \$(seq 20); do setsid sh -c 'touch $D/left.\$\$; exec sleep 1000000' & done
	while [ \$(ls $D | grep -c '^left\\.') -lt 20 ]; do sleep 0.05; done
	echo forked >$D/forked
	exit 1
fi
exec sleep 1000000"
	cat >"$INI" <<EOF
[worker w]
command = $D/w
EOF
	arbor_bg -c "$INI"
	wait_file "$D/forked"
	wait_until bash -c "[ \$(grep -c '^arbor: started w ' '$LOG') -ge 2 ]"
	run wait_until nprocs_is 2
	ns_pids | xargs ps -o pid,ppid,pgid,sid,args -p
	assert_success
}

@test "fault: children that leave the group and clear their environment do not outlive it" {
	# setsid and env -i: neither the group nor ARBOR_* finds them; only
	# being a nested supervisor's adopted orphans does (the root spares
	# orphans that are not of its tree: docker exec's, the -- CMD's)
	script "$D/w" "if [ ! -e $D/once ]; then
	touch $D/once
	for i in \$(seq 5); do setsid env -i sh -c 'touch $D/left.\$\$; exec sleep 1000000' & done
	while [ \$(ls $D | grep -c '^left\\.') -lt 5 ]; do sleep 0.05; done
	echo forked >$D/forked
	exit 1
fi
exec sleep 1000000"
	cat >"$INI" <<EOF
[supervisor s]
[worker s/w]
command = $D/w
EOF
	arbor_bg -c "$INI"
	wait_file "$D/forked"
	wait_until bash -c "[ \$(grep -c '^arbor: started s/w ' '$LOG') -ge 2 ]"
	run wait_until nprocs_is 3
	ns_pids | xargs ps -o pid,ppid,pgid,sid,args -p
	assert_success
}

@test "fault: SIGSTOPped worker and supervisor at shutdown: stopped in time, exit 0" {
	script "$D/w" 'trap "exit 0" TERM
while :; do sleep 1000000 & wait $!; done'
	cat >"$INI" <<EOF
[worker w]
command = $D/w
shutdown = 60000
[supervisor s]
[worker s/w]
command = $D/w
shutdown = 60000
EOF
	arbor_bg -c "$INI"
	ready
	kill -STOP "$(worker_pid w)" "$(worker_pid s/w)" "$(sup_pid s)"
	kill -TERM "$(arbor_inner_pid)"
	arbor_wait
	cat "$LOG"
	[ "$status" -eq 0 ]
	grep -q '^arbor: stopped w pid=[0-9]* status=0' "$LOG"
	grep -q '^arbor: stopped s/w pid=[0-9]* status=0' "$LOG"
	! grep -q '^arbor: killing' "$LOG"
}

# --- security -------------------------------------------------------------

@test "security: the control socket refuses a peer that is not root" {
	public_dir
	local uid=$((30000 + RANDOM % 20000))
	cat >"$INI" <<EOF
[arbor]
control_socket = $PUB/sock
[worker w]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	[ "$(stat -c %a "$PUB/sock")" = 600 ]
	run setpriv --reuid=$uid --regid=$uid --clear-groups "$ARBORCTL" -S "$PUB/sock" ping
	assert_failure
	# even through a socket file anyone may open, the peer's uid decides
	chmod 0666 "$PUB/sock"
	run setpriv --reuid=$uid --regid=$uid --clear-groups "$ARBORCTL" -S "$PUB/sock" ping
	assert_failure 1
	assert_output --partial "permission denied: uid $uid is not allowed"
	wait_log "$LOG" "^arbor: control socket: refused a client with uid $uid\$"
	run "$ARBORCTL" -S "$PUB/sock" ping
	assert_success
}

# caps PID: "CapInh CapPrm CapEff CapBnd CapAmb" of PID, as hex.
caps() {
	awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s%s", sep, $2; sep = " " } END { print "" }' \
		"/proc/$1/status"
}

@test "security: workers hold no capability they were not given" {
	cat >"$INI" <<EOF
[worker plain]
command = /bin/sleep 1000000
user = nobody
[worker bind]
command = /bin/sleep 1000000
user = nobody
capabilities = net_bind_service
[worker none]
command = /bin/sleep 1000000
capabilities =
[worker nnp]
command = /bin/sleep 1000000
no_new_privs = yes
capabilities = chown
EOF
	arbor_bg -c "$INI"
	ready
	local zero=0000000000000000 bind=0000000000000400 chown=0000000000000001
	assert_equal "$(caps "$(worker_pid plain)")" "$zero $zero $zero $(caps "$(worker_pid plain)" | cut -d' ' -f4) $zero"
	assert_equal "$(caps "$(worker_pid bind)")" "$bind $bind $bind $bind $bind"
	assert_equal "$(caps "$(worker_pid none)")" "$zero $zero $zero $zero $zero"
	assert_equal "$(caps "$(worker_pid nnp)")" "$chown $chown $chown $chown $chown"
	grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$(worker_pid nnp)/status"
}

# fd_set PID: its fds as "N:target" lines, sockets and pipes by kind only.
fd_set() {
	local f
	for f in /proc/$1/fd/*; do
		printf '%s:%s\n' "${f##*/}" "$(readlink "$f" | sed 's/:\[[0-9]*\]$//')"
	done
}

@test "security: no arbor fd leaks into any worker, nor into a nested supervisor" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 100
[worker plain]
command = /bin/sleep 1000000
[worker pre]
command = /bin/sleep 1000000
stdout = prefix
stderr = prefix
[worker gen]
command = /bin/sleep 1000000
genserver = yes
ready = exec
[supervisor s]
intensity = 100
[worker s/plain]
command = /bin/sleep 1000000
[worker s/gen]
command = /bin/sleep 1000000
genserver = yes
ready = exec
EOF
	arbor_bg -c "$INI"
	ready
	# a control client connected while workers restart
	coproc HOLD { python3 "$CLIENTS" "$ARBOR_SOCKET" hold 3; }
	HOLDER=$HOLD_PID
	read -r line <&"${HOLD[0]}"
	local p n
	for p in plain pre gen s/plain s/gen; do
		n=$(grep -c "^arbor: started $p " "$LOG")
		kill -KILL "$(worker_pid "$p")"
		wait_until bash -c "[ \$(grep -c '^arbor: started $p ' '$LOG') -gt $n ]"
	done
	for p in plain s/plain; do
		run fd_set "$(worker_pid "$p")"
		assert_output "$(printf '0:/dev/null\n1:%s\n2:%s' "$D/arbor.out" "$LOG")"
	done
	run fd_set "$(worker_pid pre)"
	assert_output "$(printf '0:/dev/null\n1:pipe\n2:pipe')"
	for p in gen s/gen; do
		run fd_set "$(worker_pid "$p")"
		assert_output "$(printf '0:/dev/null\n1:%s\n2:%s\n3:pipe\n4:pipe' "$D/arbor.out" "$LOG")"
	done
	# the nested supervisor holds none of PID 1's sockets (control socket,
	# clients) and no pipe of PID 1's other children
	local sock
	for sock in $(readlink /proc/"$(arbor_inner_pid)"/fd/* | grep '^socket:'); do
		! readlink /proc/"$(sup_pid s)"/fd/* | grep -qxF "$sock"
	done
}

@test "security: a config file writable by others is refused when arbor runs as root" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	cat >"$INI" <<EOF
[worker w]
command = /bin/sleep 1000000
EOF
	chmod 0666 "$INI"
	run "$ARBOR" -c "$INI"
	assert_equal "$status" 78
	assert_output "arbor: $INI: writable by others (mode 0666): refusing to run it as root, since anyone could make arbor run any program as root; run chmod o-w $INI"
}

@test "security: an included file writable by others is refused too" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	mkdir "$D/conf.d"
	cat >"$INI" <<EOF
[arbor]
include = conf.d/*.ini
EOF
	cat >"$D/conf.d/w.ini" <<EOF
[worker w]
command = /bin/sleep 1000000
EOF
	chmod 0644 "$INI"
	chmod 0666 "$D/conf.d/w.ini"
	run "$ARBOR" -c "$INI"
	assert_equal "$status" 78
	assert_output --partial "$D/conf.d/w.ini: writable by others (mode 0666): refusing to run it as root"
}

# --- found by these checks ------------------------------------------------

@test "regression: after a reload, shutdown exits 0 (the old tree is freed once)" {
	cat >"$INI" <<EOF
[worker w]
command = /bin/sleep 1000000
EOF
	arbor_bg -c "$INI"
	ready
	run "$ARBORCTL" reload
	assert_success
	kill -HUP "$(arbor_inner_pid)"
	wait_until bash -c "[ \$(grep -c '^arbor: reloaded ' '$LOG') -ge 2 ]"
	kill -TERM "$(arbor_inner_pid)"
	arbor_wait
	cat "$LOG"
	[ "$status" -eq 0 ]
}
