#!/usr/bin/env bats
# A worker's process set-up: identity, capabilities, limits, environment,
# output, readiness, leftovers and fds. Each test starts a real arbor on an
# INI file and reads the truth about the real worker from /proc/PID on the
# host side. Also the configuration errors of these keys (exit 78).

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	PY=/usr/bin/python3
}

teardown() {
	[ -z "${OTHER:-}" ] || kill -KILL "$(pgrep -P "$OTHER" | head -n1)" "$OTHER" 2>/dev/null || true
	arbor_teardown
}

# ini: the test's configuration, from stdin.
ini() { cat >"$INI"; }

# start: arbor on the test's ini, as PID 1 of a new PID namespace.
start() { arbor_bg -c "$INI"; }

# start_in_mntns SCRIPT: the same, in a private mount namespace where SCRIPT
# (sh, $1 = $T) runs first: bind mounts, a full file system.
start_in_mntns() {
	export ARBOR_SOCKET=$T/arbor.sock
	LOG=$T/arbor.log
	# shellcheck disable=SC2046
	unshare -m --propagation private sh -c "$1"'
		shift; exec unshare -pf --mount-proc "$@"' \
		sh "$T" $(arbor_cmd) -c "$INI" </dev/null >"$T/arbor.out" 2>"$LOG" &
	ARBOR_PID=$!
}

# child_of_arbor REGEX: the host pid of arbor's one child whose command line
# matches REGEX (only once it has exec'd: before, it is arbor's).
child_of_arbor() {
	local inner p
	inner=$(arbor_inner_pid)
	[ -n "$inner" ] || return 1
	p=$(pgrep -P "$inner" -f -- "$1") || return 1
	[ "$(printf '%s\n' "$p" | wc -l)" -eq 1 ] || return 1
	echo "$p"
}

# worker_pid REGEX: waits for that worker and prints its host pid.
worker_pid() {
	wait_until child_of_arbor "$1" >/dev/null || return 1
	child_of_arbor "$1"
}

# new_worker_pid REGEX OLD: waits for the worker's next incarnation.
new_worker_pid() {
	wait_until bash -c "p=\$(pgrep -P $(arbor_inner_pid) -f -- '$1') && [ \"\$p\" != $2 ]" ||
		return 1
	child_of_arbor "$1"
}

# status_of PID KEY: a /proc/PID/status field, blanks squeezed.
status_of() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# limit_of PID NAME: "soft hard" from /proc/PID/limits.
limit_of() {
	awk -v n="$2" 'substr($0, 1, 26) ~ "^" n " *$" {
		s = substr($0, 27, 21); h = substr($0, 48, 21)
		gsub(/ /, "", s); gsub(/ /, "", h); print s, h }' "/proc/$1/limits"
}

# environ_of PID: the environment, one variable a line, sorted.
environ_of() { tr '\0' '\n' <"/proc/$1/environ" | sort; }

# fds_of PID: the open fd numbers, sorted, on one line.
fds_of() { ls "/proc/$1/fd" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

gid_of() { getent group "$1" | cut -d: -f3; }

# ---- identity ----

@test "worker: user = nobody runs as nobody with its own groups" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	local ng
	ng=$(id -g nobody)
	[ "$(status_of "$W" Uid)" = "65534 65534 65534 65534" ]
	[ "$(status_of "$W" Gid)" = "$ng $ng $ng $ng" ]
	[ "$(status_of "$W" Groups)" = "$(id -G nobody)" ]
}

@test "worker: group = and groups = replace the user's groups" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
		group = daemon
		groups = tty, disk
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	local g
	g=$(gid_of daemon)
	[ "$(status_of "$W" Uid)" = "65534 65534 65534 65534" ]
	[ "$(status_of "$W" Gid)" = "$g $g $g $g" ]
	[ "$(status_of "$W" Groups)" = "$(gid_of tty) $(gid_of disk)" ]
}

@test "worker: supplementary groups come from the user's entry in /etc/group" {
	cp /etc/passwd "$T/passwd"
	cp /etc/group "$T/group"
	echo 'arbortest:x:4242:4242:arbor test:/home/arbortest:/bin/sh' >>"$T/passwd"
	cat >>"$T/group" <<-EOF
		arbortest:x:4242:
		arbortesta:x:4243:arbortest
		arbortestb:x:4244:someone,arbortest
		arbortestc:x:4245:someone
	EOF
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = arbortest
	EOF
	start_in_mntns 'mount --bind "$1/passwd" /etc/passwd &&
		mount --bind "$1/group" /etc/group || exit 90'
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(status_of "$W" Uid)" = "4242 4242 4242 4242" ]
	[ "$(status_of "$W" Gid)" = "4242 4242 4242 4242" ]
	[ "$(status_of "$W" Groups)" = "4242 4243 4244" ]
	run environ_of "$W"
	assert_line HOME=/home/arbortest
	assert_line USER=arbortest
	assert_line LOGNAME=arbortest
}

# ---- capabilities ----

@test "worker: a non-root worker holds exactly its capabilities and can bind a low port" {
	ini <<-EOF
		[worker w]
		command = $PY $(readable_copy "$FIXTURES/bindlow.py")
		user = nobody
		capabilities = net_bind_service
		stdout = file:$T/bind.out
	EOF
	start
	W=$(worker_pid 'bindlow.py')
	[ "$(status_of "$W" Uid)" = "65534 65534 65534 65534" ]
	[ "$(status_of "$W" CapEff)" = 0000000000000400 ]
	[ "$(status_of "$W" CapPrm)" = 0000000000000400 ]
	[ "$(status_of "$W" CapInh)" = 0000000000000400 ]
	[ "$(status_of "$W" CapAmb)" = 0000000000000400 ]
	[ "$(status_of "$W" CapBnd)" = 0000000000000400 ]
	wait_file "$T/bind.out"
	run cat "$T/bind.out"
	[ "$output" = unrestricted ] || assert_output --regexp '^bound [0-9]+$'
}

@test "worker: a non-root worker without capabilities has none and cannot bind a low port" {
	ini <<-EOF
		[worker w]
		command = $PY $(readable_copy "$FIXTURES/bindlow.py")
		user = nobody
		stdout = file:$T/bind.out
	EOF
	start
	W=$(worker_pid 'bindlow.py')
	for k in CapEff CapPrm CapInh CapAmb CapBnd; do
		[ "$(status_of "$W" $k)" = 0000000000000000 ] || {
			echo "$k = $(status_of "$W" $k)"
			false
		}
	done
	wait_file "$T/bind.out"
	run cat "$T/bind.out"
	[ "$output" = unrestricted ] || assert_output denied
}

@test "worker: capability names with or without cap_, in any case" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		capabilities = CAP_NET_BIND_SERVICE, Chown kill
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	# chown 0, kill 5, net_bind_service 10
	[ "$(status_of "$W" Uid)" = "0 0 0 0" ]
	[ "$(status_of "$W" CapEff)" = 0000000000000421 ]
	[ "$(status_of "$W" CapPrm)" = 0000000000000421 ]
	[ "$(status_of "$W" CapBnd)" = 0000000000000421 ]
}

@test "worker: a root worker without capabilities keeps arbor's" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	A=$(arbor_inner_pid)
	[ "$(status_of "$W" CapEff)" = "$(status_of "$A" CapEff)" ]
	[ "$(status_of "$W" CapBnd)" = "$(status_of "$A" CapBnd)" ]
	[ "$(status_of "$W" NoNewPrivs)" = 0 ]
}

@test "worker: no_new_privs = yes" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
		no_new_privs = yes
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(status_of "$W" NoNewPrivs)" = 1 ]
}

# ---- limits ----

@test "worker: rlimit_* for every RLIMIT_*, soft:hard, one value and infinity" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind intercepts setrlimit between fork and exec"
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		rlimit_nofile = 100:200
		rlimit_core = 0
		rlimit_as = 4294967296:infinity
		rlimit_memlock = 65536
		rlimit_nproc = 500:1000
		rlimit_cpu = 3600:infinity
		rlimit_fsize = 1048576:infinity
		rlimit_data = infinity
		rlimit_stack = 8388608:infinity
		rlimit_sigpending = 100:200
		rlimit_msgqueue = 1000:2000
		rlimit_locks = 50:infinity
		rlimit_rss = 1000000:infinity
		rlimit_nice = 0
		rlimit_rtprio = 0
		rlimit_rttime = 1000000:infinity
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(limit_of "$W" 'Max open files')" = "100 200" ]
	[ "$(limit_of "$W" 'Max core file size')" = "0 0" ]
	[ "$(limit_of "$W" 'Max address space')" = "4294967296 unlimited" ]
	[ "$(limit_of "$W" 'Max locked memory')" = "65536 65536" ]
	[ "$(limit_of "$W" 'Max processes')" = "500 1000" ]
	[ "$(limit_of "$W" 'Max cpu time')" = "3600 unlimited" ]
	[ "$(limit_of "$W" 'Max file size')" = "1048576 unlimited" ]
	[ "$(limit_of "$W" 'Max data size')" = "unlimited unlimited" ]
	[ "$(limit_of "$W" 'Max stack size')" = "8388608 unlimited" ]
	[ "$(limit_of "$W" 'Max pending signals')" = "100 200" ]
	[ "$(limit_of "$W" 'Max msgqueue size')" = "1000 2000" ]
	[ "$(limit_of "$W" 'Max file locks')" = "50 unlimited" ]
	[ "$(limit_of "$W" 'Max resident set')" = "1000000 unlimited" ]
	[ "$(limit_of "$W" 'Max nice priority')" = "0 0" ]
	[ "$(limit_of "$W" 'Max realtime priority')" = "0 0" ]
	[ "$(limit_of "$W" 'Max realtime timeout')" = "1000000 unlimited" ]
}

@test "worker: nice, oom_score_adj, umask and cwd (relative to the ini)" {
	mkdir "$T/wd"
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		nice = 7
		oom_score_adj = 345
		umask = 0027
		cwd = wd
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(awk '{ print $19 }' "/proc/$W/stat")" = 7 ]
	[ "$(cat "/proc/$W/oom_score_adj")" = 345 ]
	[ "$(status_of "$W" Umask)" = 0027 ]
	[ "$(readlink "/proc/$W/cwd")" = "$T/wd" ]
}

@test "worker: nice, oom_score_adj and umask apply to a non-root worker too" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
		nice = -3
		oom_score_adj = 200
		umask = 077
		cwd = /
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(status_of "$W" Uid)" = "65534 65534 65534 65534" ]
	[ "$(awk '{ print $19 }' "/proc/$W/stat")" = -3 ]
	[ "$(cat "/proc/$W/oom_score_adj")" = 200 ]
	[ "$(status_of "$W" Umask)" = 0077 ]
	[ "$(readlink "/proc/$W/cwd")" = / ]
}

@test "worker: a cwd the user cannot enter fails the start, naming the key" {
	mkdir -m 0700 "$T/private"
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
		cwd = $T/private
	EOF
	start
	arbor_wait
	cat "$T/arbor.log"
	[ "$status" -eq 1 ]
	grep -F "cwd: $T/private: Permission denied" "$T/arbor.log"
}

# ---- environment ----

@test "worker: env, env_file and clear_env; env_file is read at each start" {
	cat >"$T/env" <<-'EOF'
		# a comment
		; another

		export FROM_FILE="quoted value"
		  SPACED = padded
		SINGLE='$not expanded'
		A=from-file
	EOF
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		clear_env = yes
		env_file = env
		env = GREETING=hello world
		env = A=1
		env = A=2
	EOF
	export ARBOR_T_OUTER=leaks
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	run environ_of "$W"
	assert_line 'FROM_FILE=quoted value'
	assert_line 'SPACED=padded'
	assert_line 'SINGLE=$not expanded'
	assert_line 'GREETING=hello world'
	assert_line 'A=2'
	refute_line 'A=1'
	refute_line 'A=from-file'
	refute_line --partial 'ARBOR_T_OUTER='
	refute_line --regexp '^PATH='
	refute_line --regexp '^#'

	sed -i 's/quoted value/changed/' "$T/env"
	kill -KILL "$W"
	W2=$(new_worker_pid '^/bin/sleep 1001$' "$W")
	run environ_of "$W2"
	assert_line 'FROM_FILE=changed'
}

@test "worker: arbor's environment is inherited, HOME USER LOGNAME from user =" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = nobody
		env = EXTRA=1
	EOF
	export ARBOR_T_OUTER=inherited HOME=/root USER=root
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	run environ_of "$W"
	assert_line ARBOR_T_OUTER=inherited
	assert_line EXTRA=1
	assert_line "HOME=$(getent passwd nobody | cut -d: -f6)"
	assert_line USER=nobody
	assert_line LOGNAME=nobody
	refute_line HOME=/root
}

@test "worker: a uid without a passwd entry gets HOME=/; cwd sets PWD" {
	# (the test's own directory is not open to uid 4242)
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		user = 4242
		group = 4242
		cwd = /usr/bin
	EOF
	export HOME=/root USER=root PWD=/elsewhere
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	run environ_of "$W"
	assert_line HOME=/
	assert_line USER=4242
	assert_line LOGNAME=4242
	assert_line PWD=/usr/bin
	refute_line HOME=/root
	refute_line PWD=/elsewhere
}

# ---- output ----

@test "worker: stdout and stderr = prefix relay lines with the worker's path" {
	ini <<-EOF
		[supervisor web]
		[worker web/p]
		command = /bin/sh -c "echo out-line; echo err-line >&2; exec /bin/sleep 1001"
		stdout = prefix
		stderr = prefix
	EOF
	start
	wait_log "$T/arbor.out" '^\[web/p\] out-line$'
	wait_log "$T/arbor.log" '^\[web/p\] err-line$'
	run grep -c 'err-line' "$T/arbor.out"
	[ "$output" = 0 ]
}

@test "worker: prefix splits a line over 64 KiB and ends a partial last line" {
	ini <<-EOF
		[worker p]
		command = /bin/sh -c "head -c 200000 /dev/zero | tr '\\0' x; echo; echo short; printf partial"
		restart = temporary
		stdout = prefix
	EOF
	start
	wait_log "$T/arbor.out" '^\[p\] partial$'
	run awk '/^\[p\] x/ { print length($0) - 4 }' "$T/arbor.out"
	assert_output "$(printf '65536\n65536\n65536\n3392')"
	run grep -c '^\[p\] short$' "$T/arbor.out"
	assert_output 1
	run grep -vc '^\[p\] ' "$T/arbor.out"
	assert_output 0
}

@test "worker: a flooding worker neither starves arbor nor makes it grow" {
	ini <<-EOF
		[worker lines]
		command = /usr/bin/yes a-flood-of-short-lines
		stdout = prefix
		[worker noline]
		command = /bin/sh -c "exec /bin/cat /dev/zero"
		stdout = prefix
		[worker other]
		command = /bin/sleep 1001
	EOF
	export ARBOR_SOCKET=$T/arbor.sock
	# shellcheck disable=SC2046
	unshare -pf --mount-proc $(arbor_cmd) -c "$INI" </dev/null >/dev/null 2>"$T/arbor.log" &
	ARBOR_PID=$!
	W=$(worker_pid '^/bin/sleep 1001$')
	A=$(arbor_inner_pid)
	# arbor relays a lot, and still restarts a worker meanwhile
	wait_until awk -v min=$((16 << 20)) '/^wchar:/ { exit !($2 > min) }' "/proc/$A/io"
	hwm1=$(status_of "$A" VmHWM | awk '{ print $1 }')
	kill -KILL "$W"
	new_worker_pid '^/bin/sleep 1001$' "$W"
	wait_until awk -v min=$((160 << 20)) '/^wchar:/ { exit !($2 > min) }' "/proc/$A/io"
	hwm2=$(status_of "$A" VmHWM | awk '{ print $1 }')
	echo "arbor VmHWM ${hwm1} kB, then ${hwm2} kB"
	[ $((hwm2 - hwm1)) -lt 4096 ]
}

@test "worker: stdout = null and stderr = null" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		stdout = null
		stderr = null
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(readlink "/proc/$W/fd/1")" = /dev/null ]
	[ "$(readlink "/proc/$W/fd/2")" = /dev/null ]
}

@test "worker: file:PATH is appended to by arbor, created 0640" {
	ini <<-EOF
		[worker w]
		command = /bin/sh -c "echo one; echo two >&2; exec /bin/sleep 1001"
		user = nobody
		stdout = file:out.log
		stderr = file:$T/out.log
	EOF
	local mask
	mask=$(umask)
	umask 077
	start
	umask "$mask"
	W=$(worker_pid '^/bin/sleep 1001$')
	wait_log "$T/out.log" '^two$'
	[ "$(stat -c %a "$T/out.log")" = 640 ]
	# the worker writes into a pipe it owns; arbor appends to the file
	[[ "$(readlink "/proc/$W/fd/1")" == pipe:* ]]
	[ "$(stat -L -c %U "/proc/$W/fd/1")" = nobody ]
	kill -KILL "$W"
	W2=$(new_worker_pid '^/bin/sleep 1001$' "$W")
	wait_count "$T/out.log" two 2
	run grep -c '^one$' "$T/out.log"
	assert_output 2
}

@test "worker: file: on a full disk fails the start, naming the key" {
	mkdir "$T/full"
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		stdout = file:$T/full/w.log
	EOF
	start_in_mntns 'mount -t tmpfs -o size=1m,nr_inodes=4 arbor-full "$1/full" || exit 90
		i=0; while touch "$1/full/f$i" 2>/dev/null; do i=$((i + 1)); done'
	arbor_wait
	cat "$T/arbor.log"
	[ "$status" -eq 1 ]
	grep -F "stdout: file:$T/full/w.log: No space left on device" "$T/arbor.log"
}

@test "worker: a cwd that vanished fails the start, naming the key" {
	mkdir "$T/wd"
	ini <<-EOF
		[worker a]
		command = /bin/sh -c "rmdir $T/wd && echo >&3; exec /bin/sleep 1002"
		ready = fd:3
		[worker b]
		command = /bin/sleep 1001
		cwd = $T/wd
	EOF
	start
	arbor_wait
	cat "$T/arbor.log"
	[ "$status" -eq 1 ]
	grep -F "cwd: $T/wd: No such file or directory" "$T/arbor.log"
}

# ---- readiness ----

@test "worker: ready = notify: the next child starts after READY=1" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind delays the child between fork and exec past this test's timing"
	ini <<-EOF
		[worker a]
		command = /bin/sh -c 'echo a started >>$T/order; while [ ! -e $T/go ]; do sleep 0.02; done; echo a notifies >>$T/order; $PY $FIXTURES/sdnotify.py "STATUS=almost\\nREADY=1"; exec /bin/sleep 1002'
		ready = notify
		[worker b]
		command = /bin/sh -c 'echo b started >>$T/order; exec /bin/sleep 1001'
	EOF
	start
	wait_log "$T/order" 'a started'
	A=$(worker_pid '^/bin/sh -c echo a started')
	run environ_of "$A"
	assert_line --regexp '^NOTIFY_SOCKET=.+'
	touch "$T/go"
	wait_log "$T/order" 'b started'
	run cat "$T/order"
	assert_output "$(printf 'a started\na notifies\nb started')"
}

@test "worker: ready = notify: two arbors, each pid 1 of its own namespace on one network, both start" {
	# abstract socket names are per network namespace: a name made of the
	# pid and a count would be the same in both
	mkdir "$T/two"
	cat >"$T/two/a.ini" <<-EOF
		[worker a]
		command = /bin/sh -c '$PY $FIXTURES/sdnotify.py READY=1 && echo ready >$T/two/ready; exec /bin/sleep 1003'
		ready = notify
	EOF
	ARBOR_SOCKET=$T/two/arbor.sock unshare -pf --mount-proc "$ARBOR" -c "$T/two/a.ini" \
		</dev/null >/dev/null 2>"$T/two/arbor.log" &
	OTHER=$!
	ini <<-EOF
		[worker a]
		command = /bin/sh -c '$PY $FIXTURES/sdnotify.py READY=1 && echo ready >$T/ready; exec /bin/sleep 1004'
		ready = notify
	EOF
	start
	wait_log "$T/two/ready" '^ready$'
	wait_log "$T/ready" '^ready$'
	kill -TERM "$(pgrep -P "$OTHER" | head -n1)"
	wait "$OTHER" || true
	run grep -h 'in use' "$T/arbor.log" "$T/two/arbor.log"
	assert_output ''
}

@test "worker: ready = notify: NOTIFY_SOCKET stays open after READY=1" {
	ini <<-EOF
		[worker a]
		command = /bin/sh -c '$PY $FIXTURES/sdnotify.py READY=1; while [ ! -e $T/go ]; do sleep 0.02; done; if $PY $FIXTURES/sdnotify.py "STATUS=still here"; then echo sent; else echo refused; fi >$T/out; exec /bin/sleep 1002'
		ready = notify
	EOF
	start
	wait_log "$T/arbor.log" '^arbor: ready /'
	touch "$T/go"
	wait_log "$T/out" '^(sent|refused)$'
	run cat "$T/out"
	assert_output sent
	"$ARBORCTL" ping
}

# ---- leftovers ----

@test "worker: a grandchild is gone after the worker is SIGKILLed" {
	ini <<-EOF
		[worker w]
		command = /bin/sh -c "/bin/sleep 1003 & exec /bin/sleep 1001"
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	wait_until pgrep -P "$W" -f '^/bin/sleep 1003$'
	G=$(pgrep -P "$W" -f '^/bin/sleep 1003$')
	kill -KILL "$W"
	wait_gone "$G"
	new_worker_pid '^/bin/sleep 1001$' "$W"
}

@test "worker: a grandchild is gone after the worker is stopped" {
	ini <<-EOF
		[worker w]
		command = /bin/sh -c "/bin/sleep 1003 & exec /bin/sleep 1001"
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	wait_until pgrep -P "$W" -f '^/bin/sleep 1003$'
	G=$(pgrep -P "$W" -f '^/bin/sleep 1003$')
	run "$ARBORCTL" stop w
	assert_success
	wait_gone "$W"
	wait_gone "$G"
}

@test "worker: each worker leads its own process group" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	# /proc/PID/stat fields 1 and 5 seen from inside: pid and pgrp are equal
	[ "$(status_of "$W" NSpid | awk '{ print $NF }')" = \
	  "$(status_of "$W" NSpgid | awk '{ print $NF }')" ]
}

# ---- fds ----

@test "worker: a plain worker has exactly fds 0, 1 and 2" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
		[worker p]
		command = /bin/sleep 1002
		stdout = prefix
		stderr = file:$T/err.log
		ready = notify
		start_timeout = infinity
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(fds_of "$W")" = "0 1 2" ]
	P=$(worker_pid '^/bin/sleep 1002$')
	[ "$(fds_of "$P")" = "0 1 2" ]
}

@test "worker: a genserver worker has exactly fds 0 to 4" {
	# sleep opens nothing itself, unlike a libarbor worker
	ini <<-EOF
		[worker c]
		command = /bin/sleep 1001
		genserver = yes
		ready = exec
	EOF
	start
	W=$(worker_pid '^/bin/sleep 1001$')
	[ "$(fds_of "$W")" = "0 1 2 3 4" ]
	[[ "$(readlink "/proc/$W/fd/3")" == pipe:* ]]
	[[ "$(readlink "/proc/$W/fd/4")" == pipe:* ]]
}

# libarbor_fds_ok PATH PID: once the worker at PATH answers a call (READY
# was sent, so libarbor has set itself up), PID holds exactly 0, 1, 2 and
# the two pipes its environment names.
libarbor_fds_ok() {
	local in out
	wait_until "$ARBORCTL" call "$1" "$2" >/dev/null
	in=$(environ_of "$3" | sed -n 's/^ARBOR_IN_FD=//p')
	out=$(environ_of "$3" | sed -n 's/^ARBOR_OUT_FD=//p')
	[ "$in $out" = "3 4" ]
	[ "$(fds_of "$3")" = "0 1 2 3 4" ]
	[[ "$(readlink "/proc/$3/fd/$in")" == pipe:* ]]
	[[ "$(readlink "/proc/$3/fd/$out")" == pipe:* ]]
}

@test "worker: counter and agent (libarbor) hold exactly fds 0 to 4, after a restart too" {
	ini <<-EOF
		[supervisor]
		intensity = 100
		[worker counter]
		command = $WORKERS/counter
		genserver = yes
		[worker agent]
		command = $WORKERS/agent
		genserver = yes
	EOF
	start
	C=$(worker_pid "^$WORKERS/counter\$")
	A=$(worker_pid "^$WORKERS/agent\$")
	libarbor_fds_ok counter get_value "$C"
	libarbor_fds_ok agent keys "$A"
	kill -KILL "$C" "$A"
	C2=$(new_worker_pid "^$WORKERS/counter\$" "$C")
	A2=$(new_worker_pid "^$WORKERS/agent\$" "$A")
	libarbor_fds_ok counter get_value "$C2"
	libarbor_fds_ok agent keys "$A2"
}

@test "worker: a program a libarbor worker runs gets no blocked signals" {
	ini <<-EOF
		[worker p]
		command = $FIXBIN/protoworker
		genserver = yes
		env = PROTO_MARKER=$T/marker
	EOF
	start
	W=$(worker_pid "^$FIXBIN/protoworker\$")
	wait_until "$ARBORCTL" call p "echo up" >/dev/null
	run "$ARBORCTL" call p "run grep ^SigBlk /proc/self/status >$T/child"
	assert_success
	assert_output 0
	run cat "$T/child"
	assert_output "$(printf 'SigBlk:\t0000000000000000')"
	# the worker itself still stops in order on SIGTERM
	kill -TERM "$W"
	wait_log "$T/marker" '^terminate shutdown$'
	wait_gone "$W"
}

# ---- configuration errors ----

# check_fails LINE TEXT...: arbor check exits 78 naming t.ini:LINE and each TEXT.
check_fails() {
	local line=$1
	shift
	run "$ARBOR" check -c "$INI"
	echo "$output"
	[ "$status" -eq 78 ]
	assert_output --partial "t.ini:$line:"
	for t in "$@"; do
		assert_output --partial "$t"
	done
}

@test "worker conf: an unknown user" {
	ini <<-EOF
		[worker w]
		command = /bin/true
		user = no_such_user_here
	EOF
	check_fails 3 'user = no_such_user_here'
}

@test "worker conf: an unknown group and an unknown supplementary group" {
	ini <<-EOF
		[worker w]
		command = /bin/true
		group = no_such_group_here
	EOF
	check_fails 3 'group = no_such_group_here'
	ini <<-EOF
		[worker w]
		command = /bin/true
		user = nobody
		groups = tty, no_such_group_here
	EOF
	check_fails 4 'groups = ' 'no_such_group_here'
}

@test "worker conf: an unknown capability is named" {
	ini <<-EOF
		[worker w]
		command = /bin/true

		capabilities = net_bind_service, cap_frobnicate
	EOF
	check_fails 4 'capabilities = ' "'cap_frobnicate'"
}

@test "worker conf: bad rlimits" {
	ini <<-EOF
		[worker w]
		command = /bin/true
		rlimit_nofile = lots
	EOF
	check_fails 3 'rlimit_nofile = lots'
	ini <<-EOF
		[worker w]
		command = /bin/true
		rlimit_core = 200:100
	EOF
	check_fails 3 'rlimit_core = 200:100'
	ini <<-EOF
		[worker w]
		command = /bin/true
		rlimit_frob = 1
	EOF
	check_fails 3 'rlimit_frob'
}

@test "worker conf: an unreadable env_file" {
	ini <<-EOF
		[worker w]
		command = /bin/true
		env_file = $T/no-such-env
	EOF
	check_fails 3 'env_file = ' "$T/no-such-env"
}

@test "worker conf: bad nice, oom_score_adj, umask, stdout, env" {
	local k
	for k in 'nice = 20' 'oom_score_adj = -1001' 'umask = 0999' 'stdout = sideways' \
		'stderr = file:' 'env = NOEQUALS' 'no_new_privs = perhaps' 'clear_env = 2'; do
		ini <<-EOF
			[worker w]
			command = /bin/true
			$k
		EOF
		check_fails 3 "$k"
	done
}
