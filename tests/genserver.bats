#!/usr/bin/env bats
# GenServer calls end to end: arborctl -> the control socket -> each
# supervisor process on the path -> the worker's pipes, and back. A real
# arbor runs as PID 1 of a new PID namespace on a tree written by each test;
# the workers are the real counter and agent, libarbor's protoworker, and
# Python workers written from arbor-protocol(7) alone. Also the demo.
bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	PY=/usr/bin/python3
	SLOW_LOG=$T/slow.log
	GATE=$T/gate
	CLIENT=
}

teardown() {
	[ -z "$CLIENT" ] || kill "$CLIENT" 2>/dev/null || true
	arbor_teardown
}

ctl() { "$ARBORCTL" "$@"; }

# tree: the common tree, in $INI. Tests append their own sections.
#   counter, agent (genservers), plain (not one), p (protoworker),
#   a/b/c (a counter from 10, three levels down), a/b/p (protoworker)
tree() {
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 1000
		period = 5

		[worker counter]
		command = $WORKERS/counter
		genserver = yes

		[worker agent]
		command = $WORKERS/agent
		genserver = yes

		[worker plain]
		command = /bin/sleep 1003

		[worker p]
		command = $FIXBIN/protoworker
		genserver = yes

		[supervisor a]
		intensity = 1000
		period = 5

		[supervisor a/b]
		intensity = 1000
		period = 5

		[worker a/b/c]
		command = $WORKERS/counter 10
		genserver = yes

		[worker a/b/p]
		command = $FIXBIN/protoworker
		genserver = yes
	EOF
}

# slow PATH: a slowworker.py section (the parent must exist).
slow() {
	[ -p "$GATE" ] || mkfifo "$GATE"
	cat >>"$INI" <<-EOF

		[worker $1]
		command = $PY $FIXTURES/slowworker.py
		genserver = yes
		env = SLOW_LOG=$SLOW_LOG
		env = SLOW_GATE=$GATE
	EOF
}

# start: arbor on $INI, until its tree is up.
start() {
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

# running_pid PATH: PATH's pid (inside the namespace) while it runs.
running_pid() {
	ctl status "$1" --json | jq -er 'select(.state == "running") | .pid'
}

# restarted PATH OLD: PATH runs again under a pid other than OLD.
restarted() {
	local p
	p=$(running_pid "$1") && [ "$p" != "$2" ]
}

# host_pid PATH: PATH's pid as seen from here, found by its NSpid.
host_pid() {
	local inner
	inner=$(running_pid "$1") || return 1
	outer_pid "$inner"
}

# is_stopped HOSTPID: the process is stopped by a signal.
is_stopped() { grep -q '^State:[[:space:]]*T' "/proc/$1/status"; }

# pipe_holds HOSTPID BYTES: the worker's request pipe (its $ARBOR_IN_FD)
# holds at least BYTES unread: frames arbor has forwarded to it.
pipe_holds() {
	local fd n
	fd=$(tr '\0' '\n' <"/proc/$1/environ" | sed -n 's/^ARBOR_IN_FD=//p')
	[ -n "$fd" ] || return 1
	n=$($PY -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])' \
		"/proc/$1/fd/$fd") || return 1
	[ "$n" -ge "$2" ]
}

# release: lets one "hold" call of a slowworker return.
# shellcheck disable=SC2016
release() { timeout "$TIMEOUT" bash -c ': >"$1"' _ "$GATE"; }

# answers PATH MSG REPLY: the call answers REPLY.
answers() { [ "$(ctl call "$1" "$2")" = "$3" ]; }

# wait_job PID: waits for a background job of this shell, at most $TIMEOUT
# seconds; its exit status in $rc.
wait_job() {
	rc=
	wait_gone "$1" || return 1
	rc=0
	wait "$1" || rc=$?
}

# The EXAMPLES code of a man page: its first .EX block, roff escapes undone.
man_example() {
	awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.EE/ { exit }
	     ex && on { print } ex && /^\.EX/ { on = 1 }' "$1" |
		sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\(dq/"/g'
}

# ---- the seed's scenario ----

@test "seed: increment, increment, get_value, kill -9, get_value is 0 again" {
	tree
	start
	run ctl call counter increment
	assert_success
	assert_output 1
	run ctl call counter increment
	assert_output 2
	run ctl call counter get_value
	assert_success
	assert_output 2

	old=$(running_pid counter)
	kill -9 "$(host_pid counter)"
	wait_log "$LOG" "^arbor: exited counter pid=$old signal=SIGKILL$"
	wait_until restarted counter "$old"
	run ctl call counter get_value
	assert_success
	assert_output 0
	run ctl call counter increment
	assert_output 1
	[ "$(ctl status counter --json | jq .restarts)" = 1 ]
}

@test "cast: returns at once with no output; a call after it sees it" {
	tree
	start
	run --separate-stderr ctl cast counter increment
	assert_success
	assert_output ''
	[ -z "$stderr" ]
	run ctl call counter get_value
	assert_output 1
	ctl cast counter 'add 5'
	run ctl call counter get_value
	assert_output 6
	# the words after PATH are one message, quoted or not
	ctl cast counter add 2
	run ctl call counter add 3
	assert_output 11
}

@test "cast: returns at once even when the worker is not reading" {
	tree
	start
	W=$(host_pid counter)
	ctl kill counter STOP
	wait_until is_stopped "$W"
	# a call would wait for the stopped worker: a cast must not
	run timeout 10 "$ARBORCTL" cast counter increment
	assert_success
	ctl kill counter CONT
	run ctl call counter get_value
	assert_output 1
}

# ---- routing through the tree ----

@test "calls, casts and sends three levels down, through two supervisors" {
	tree
	start
	run ctl call a/b/c get_value
	assert_success
	assert_output 10
	run ctl call a/b/c increment
	assert_output 11
	run ctl call a/b/c 'add 5'
	assert_output 16
	ctl cast a/b/c increment
	run ctl call a/b/c get_value
	assert_output 17
	ctl send a/b/p deep
	run ctl call a/b/p notes
	assert_output info:deep
	# every hop is a process of its own: the supervisors on the path
	[ "$(running_pid a)" != 1 ]
	[ "$(running_pid a/b)" != "$(running_pid a)" ]
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
}

@test "a timeout three levels down answers timeout; the next call works" {
	tree
	start
	W=$(host_pid a/b/c)
	ctl kill a/b/c STOP
	wait_until is_stopped "$W"
	run --separate-stderr ctl call a/b/c increment --timeout 300
	assert_failure 1
	[ "$stderr" = "arborctl: timeout" ]
	ctl kill a/b/c CONT
	# 10, the late increment 11, then this: its own answer, not the late one
	run ctl call a/b/c 'add 100'
	assert_success
	assert_output 111
}

@test "50 concurrent callers: not one update lost, each its own reply" {
	tree
	start
	for spec in counter:0 a/b/c:10; do
		path=${spec%:*} base=${spec#*:}
		pids=()
		for i in $(seq 50); do
			ctl call "$path" increment >"$T/r.$i" 2>"$T/e.$i" &
			pids+=($!)
		done
		for i in $(seq 50); do
			rc=0
			wait "${pids[$((i - 1))]}" || rc=$?
			[ "$rc" = 0 ] || { echo "caller $i of $path: status $rc: $(cat "$T/e.$i")"; false; }
		done
		# each caller saw a different value: the calls were served one by one
		[ "$(cat "$T"/r.* | sort -n | tr '\n' ' ')" = "$(seq $((base + 1)) $((base + 50)) | tr '\n' ' ')" ]
		run ctl call "$path" get_value
		assert_output $((base + 50))
	done
}

@test "calls to one worker are served one at a time, in arrival order" {
	tree
	slow s
	start
	S=$(host_pid s)
	ctl call s hold --timeout 60000 >"$T/hold" 2>&1 &
	hold=$!
	wait_log "$SLOW_LOG" '^call hold$'
	# each call is in the worker's pipe (a 16-byte header and "echo N")
	# before the next is made
	pids=()
	for i in 1 2 3 4 5; do
		ctl call s "echo $i" --timeout 60000 >"$T/echo.$i" 2>&1 &
		pids+=($!)
		wait_until pipe_holds "$S" $((22 * i))
	done
	# a busy worker blocks nobody else
	run ctl call counter increment
	assert_output 1
	[ "$(grep -c . "$SLOW_LOG")" = 1 ]
	release
	wait_job "$hold"
	[ "$rc" = 0 ]
	[ "$(cat "$T/hold")" = released ]
	for i in 1 2 3 4 5; do
		wait_job "${pids[$((i - 1))]}"
	[ "$rc" = 0 ]
		[ "$(cat "$T/echo.$i")" = "$i" ]
	done
	[ "$(tr '\n' , <"$SLOW_LOG")" = "call hold,call echo 1,call echo 2,call echo 3,call echo 4,call echo 5," ]
}

@test "send delivers to handle_info, cast to handle_cast" {
	tree
	start
	run --separate-stderr ctl send p hello
	assert_success
	assert_output ''
	ctl cast p 'note 1'
	ctl send p bye
	run ctl call p notes
	assert_success
	assert_output 'info:hello,note 1,info:bye'
}

@test "worker to worker: calls and casts by path, up and down the tree" {
	tree
	start
	run ctl call p 'ask a/b/c increment'
	assert_success
	assert_output 'got 11'
	run ctl call a/b/p 'ask counter increment'
	assert_output 'got 1'
	run ctl call a/b/p 'ask a/b/c get_value'
	assert_output 'got 11'
	run ctl call a/b/p 'tell counter increment'
	assert_output ok
	run ctl call counter get_value
	assert_output 2
	run ctl call p 'ask nope x'
	assert_failure 1
	assert_output 'arborctl: failed (remote): no such child: nope'
	run ctl call a/b/p 'ask plain x'
	assert_failure 1
	assert_output --regexp '^arborctl: failed \(remote\): not a genserver: plain'
	ctl stop counter
	run ctl call a/b/p 'ask counter get_value'
	assert_failure 1
	assert_output --regexp '^arborctl: failed \(remote\): noproc'
}

@test "worker to worker: a call to a stopped worker times out; its late reply is dropped" {
	tree
	start
	W=$(host_pid counter)
	ctl kill counter STOP
	wait_until is_stopped "$W"
	run --separate-stderr ctl call a/b/p 'ask counter increment' --timeout 30000
	assert_failure 1
	[[ $stderr =~ ^arborctl:\ failed\ .*timeout ]]
	ctl kill counter CONT
	# the timed-out increment was served late, its answer dropped
	run ctl call a/b/p 'ask counter increment'
	assert_output 'got 2'
	run ctl call a/b/p path
	assert_output a/b/p
	[ "$(host_pid counter)" = "$W" ]
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
}

# ---- the agent ----

@test "agent: put, get, keys, delete, a cast put, a missing key" {
	tree
	start
	run ctl call agent 'put greeting hello world'
	assert_success
	assert_output ok
	run ctl call agent 'get greeting'
	assert_output 'hello world'
	ctl call agent 'put b 2'
	ctl call agent 'put a 1'
	ctl call agent 'put a 3'
	run ctl call agent keys
	assert_output "$(printf 'a\nb\ngreeting')"
	run ctl call agent 'get a'
	assert_output 3
	run ctl call agent 'delete a'
	assert_success
	run --separate-stderr ctl call agent 'get a'
	assert_failure 1
	[ "$stderr" = "arborctl: no such key: a" ]
	ctl cast agent 'put c 4'
	run ctl call agent 'get c'
	assert_output 4
	run ctl call agent keys
	assert_output "$(printf 'b\nc\ngreeting')"
}

# ---- errors ----

@test "noproc: a call to a stopped worker; it works again once started" {
	tree
	start
	ctl stop counter
	run --separate-stderr ctl call counter get_value
	assert_failure 1
	assert_output ''
	[[ $stderr == "arborctl: noproc"* ]]
	ctl stop a/b/c
	run --separate-stderr ctl call a/b/c get_value
	assert_failure 1
	[[ $stderr == "arborctl: noproc"* ]]
	ctl start counter
	run ctl call counter increment
	assert_success
	assert_output 1
}

@test "noproc: a call to a worker restarting, still in its init" {
	tree
	slow a/b/s
	echo "env = SLOW_INIT_HOLD=$T/hold-init" >>"$INI"
	start
	old=$(running_pid a/b/s)
	touch "$T/hold-init"
	kill -9 "$(host_pid a/b/s)"
	wait_log "$SLOW_LOG" '^init held$'
	[ "$(ctl status a/b/s --json | jq -r .state)" = starting ]
	run --separate-stderr ctl call a/b/s ping
	assert_failure 1
	[[ $stderr == "arborctl: noproc"* ]]
	rm "$T/hold-init"
	release
	wait_until restarted a/b/s "$old"
	run ctl call a/b/s ping
	assert_output pong
}

@test "no such child: PATH, at the root and below nested supervisors" {
	tree
	start
	for path in nope a/nope a/b/nope a/b/c/d; do
		run --separate-stderr ctl call "$path" x
		assert_failure 1
		[ "$stderr" = "arborctl: no such child: $path" ]
	done
	run --separate-stderr ctl cast a/b/nope x
	assert_failure 1
	[ "$stderr" = "arborctl: no such child: a/b/nope" ]
}

@test "not a genserver: a plain worker and a supervisor say so" {
	tree
	start
	run --separate-stderr ctl call plain x
	assert_failure 1
	[[ $stderr == "arborctl: not a genserver: plain"* ]]
	run --separate-stderr ctl call a/b x
	assert_failure 1
	[[ $stderr == "arborctl: not a genserver: a/b"* ]]
	for verb in cast send; do
		run --separate-stderr ctl "$verb" plain x
		assert_failure 1
		[[ $stderr == "arborctl: not a genserver: plain"* ]]
	done
}

@test "timeout: a stopped worker's call fails after --timeout; the next call works" {
	tree
	start
	ctl call counter increment
	W=$(host_pid counter)
	ctl kill counter STOP
	wait_until is_stopped "$W"
	run --separate-stderr ctl call counter increment --timeout 300
	assert_failure 1
	assert_output ''
	[ "$stderr" = "arborctl: timeout" ]
	ctl kill counter CONT
	# 1, the timed-out increment 2 (served late, its answer dropped), then 12
	run ctl call counter 'add 10'
	assert_success
	assert_output 12
	[ "$(host_pid counter)" = "$W" ]
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
}

@test "timeout: 5000 ms by default, as GenServer.call" {
	tree
	start
	W=$(host_pid counter)
	ctl kill counter STOP
	wait_until is_stopped "$W"
	t0=$(date +%s%N)
	run --separate-stderr ctl call counter get_value
	t1=$(date +%s%N)
	assert_failure 1
	[ "$stderr" = "arborctl: timeout" ]
	ms=$(((t1 - t0) / 1000000))
	echo "answered after ${ms} ms"
	[ "$ms" -ge 4950 ]
	[ "$ms" -lt 15000 ]
	ctl kill counter CONT
	run ctl call counter get_value
	assert_output 0
}

@test "a late reply is dropped: the call waiting next gets its own answer" {
	tree
	slow s
	start
	S=$(host_pid s)
	run --separate-stderr ctl call s hold --timeout 300
	assert_failure 1
	[ "$stderr" = "arborctl: timeout" ]
	# the worker is still in hold; the next call waits in its pipe
	ctl call s 'echo mine' --timeout 60000 >"$T/next" 2>&1 &
	next=$!
	wait_until pipe_holds "$S" 25
	release
	wait_job "$next"
	[ "$rc" = 0 ]
	[ "$(cat "$T/next")" = mine ]
	run ctl call s ping
	assert_output pong
	[ "$(host_pid s)" = "$S" ]
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
}

@test "a caller that goes away mid-call: the reply is dropped, arbor goes on" {
	tree
	slow a/b/s
	start
	S=$(host_pid a/b/s)
	ctl call a/b/s hold --timeout 60000 >/dev/null 2>&1 &
	caller=$!
	wait_log "$SLOW_LOG" '^call hold$'
	kill -TERM "$caller"
	wait_job "$caller"
	release
	run ctl call a/b/s 'echo next'
	assert_success
	assert_output next
	[ "$(host_pid a/b/s)" = "$S" ]
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
	ctl ping
}

@test "a worker killed mid-call: the caller gets how it died, at once" {
	tree
	slow s
	start
	old=$(running_pid s)
	ctl call s hold --timeout 60000 >"$T/out" 2>"$T/err" &
	caller=$!
	wait_log "$SLOW_LOG" '^call hold$'
	kill -9 "$(host_pid s)"
	wait_job "$caller"
	[ "$rc" = 1 ]
	[ ! -s "$T/out" ]
	grep -Eq '^arborctl: worker exited: .*SIGKILL$' "$T/err"
	wait_log "$LOG" "^arbor: exited s pid=$old signal=SIGKILL$"
	wait_until restarted s "$old"
	run ctl call s ping
	assert_output pong
}

@test "a worker that exits mid-call: the caller gets its exit status" {
	tree
	slow s
	start
	old=$(running_pid s)
	run --separate-stderr ctl call s 'exit 3'
	assert_failure 1
	[[ $stderr =~ ^arborctl:\ worker\ exited:\ .*[^0-9]3$ ]]
	wait_until restarted s "$old"
	run ctl call s ping
	assert_output pong
}

@test "calls waiting behind a killed call fail too, and only they" {
	tree
	slow s
	start
	S=$(host_pid s)
	ctl call s hold --timeout 60000 >/dev/null 2>"$T/err1" &
	c1=$!
	wait_log "$SLOW_LOG" '^call hold$'
	ctl call s 'echo 2' --timeout 60000 >/dev/null 2>"$T/err2" &
	c2=$!
	wait_until pipe_holds "$S" 22
	ctl kill s KILL
	wait_job "$c1"
	[ "$rc" = 1 ]
	wait_job "$c2"
	[ "$rc" = 1 ]
	grep -Eq '^arborctl: worker exited: .*SIGKILL$' "$T/err1"
	grep -Eq '^arborctl: worker exited: .*SIGKILL$' "$T/err2"
	run ctl call counter increment
	assert_output 1
}

@test "shutdown with a call waiting: the caller gets an error (1), not a lost connection (2)" {
	tree
	start
	W=$(host_pid counter)
	ctl kill counter STOP
	wait_until is_stopped "$W"
	ctl call counter get_value --timeout 60000 >"$T/out" 2>"$T/err" &
	caller=$!
	wait_until pipe_holds "$W" 25
	ctl shutdown
	wait_job "$caller"
	cat "$T/err"
	[ "$rc" = 1 ]
	grep -Eq '^arborctl: worker exited: ' "$T/err"
}

@test "a supervisor killed mid-call: the call through it fails at once" {
	tree
	slow a/b/s
	start
	old=$(running_pid a/b)
	ctl call a/b/s hold --timeout 60000 >"$T/out" 2>"$T/err" &
	caller=$!
	wait_log "$SLOW_LOG" '^call hold$'
	ctl kill a/b KILL
	wait_job "$caller"
	[ "$rc" = 1 ]
	[ ! -s "$T/out" ]
	grep -Eq '^arborctl: .+' "$T/err"
	wait_until restarted a/b "$old"
	wait_until answers a/b/s ping pong
	run ctl call a/b/c get_value
	assert_output 10
}

# ---- bad input ----

# bad_frame FAULT REASON: badframes.py at s/bad writes FAULT in answer to a
# call. arbor logs REASON (an extended regex), kills and restarts s/bad;
# its supervisor s and the counter beside it are untouched.
bad_frame() {
	tree
	cat >>"$INI" <<-EOF

		[supervisor s]
		intensity = 1000
		period = 5

		[worker s/bad]
		command = $PY $FIXTURES/badframes.py
		genserver = yes
	EOF
	start
	ctl call counter increment
	counter=$(running_pid counter)
	sup=$(running_pid s)
	bad=$(running_pid s/bad)
	run --separate-stderr ctl call s/bad "$1"
	assert_failure 1
	[[ $stderr == "arborctl: worker killed: protocol error: "* ]]
	wait_log "$LOG" "^arbor: protocol error s/bad pid=$bad reason=\"$2\"$"
	wait_log "$LOG" "^arbor: exited s/bad pid=$bad "
	wait_until restarted s/bad "$bad"
	wait_until answers s/bad ping pong
	[ "$(count_log "$LOG" 'protocol error')" = 1 ]
	[ "$(running_pid s)" = "$sup" ]
	[ "$(running_pid counter)" = "$counter" ]
	run ctl call counter get_value
	assert_output 1
	ctl ping
}

@test "bad frame: a length over max_message (0xffffffff)" {
	bad_frame badlen '.*4294967295 bytes over max_message 1048576.*'
}

@test "bad frame: a real payload one byte over max_message" {
	bad_frame oversize '.*1048577 bytes over max_message 1048576.*'
}

@test "bad frame: an unknown frame type" {
	bad_frame badtype '.*unknown frame type 42.*'
}

@test "bad frame: another protocol version" {
	bad_frame badversion '.*protocol version 2.*'
}

@test "bad frame: reserved flags set" {
	bad_frame badflags '.*flags 0x0001.*'
}

@test "bad frame: garbage that is no frame at all" {
	bad_frame garbage '.+'
}

@test "bad frame: a reply to no call" {
	bad_frame orphanreply 'reply to no call'
}

@test "bad frame: a CALL with id 0" {
	bad_frame callzero '.*CALL with id 0.*'
}

@test "bad frame: an EVENT, reserved for supervisors" {
	bad_frame reserved '.*EVENT.*reserved.*'
}

@test "a client that sends half a request and hangs blocks nothing" {
	tree
	start
	python3 "$FIXTURES/stuckclient.py" nothing halfheader halfpayload >"$T/client" &
	CLIENT=$!
	wait_log "$T/client" '^ready$'
	run ctl call counter increment
	assert_success
	assert_output 1
	run ctl call a/b/c increment
	assert_output 11
	run ctl status counter --json
	assert_success
	ctl ping
	kill "$CLIENT"
	CLIENT=
	run ctl call counter get_value
	assert_output 1
}

@test "a message over max_message is refused with a clear error, at any depth" {
	tree
	for w in small a/b/small; do
		cat >>"$INI" <<-EOF

			[worker $w]
			command = $FIXBIN/protoworker
			genserver = yes
			max_message = 100
		EOF
	done
	start
	fits=$(printf 'x%.0s' $(seq 95))
	for w in small a/b/small; do
		# "echo " and 95 bytes: exactly 100
		run ctl call "$w" "echo $fits"
		assert_success
		assert_output "$fits"
		for verb in call cast send; do
			run --separate-stderr ctl "$verb" "$w" "echo ${fits}x"
			assert_failure 1
			[ "$stderr" = "arborctl: message too large: 101 bytes, max_message is 100" ]
		done
		run --separate-stderr ctl call "$w" 'big 101'
		assert_failure 1
		[ "$stderr" = "arborctl: reply of 101 bytes over max_message 100" ]
	done
	[ "$(count_log "$LOG" 'protocol error')" = 0 ]
}

# ---- workers in another language ----

@test "the man page's Python counter, copied out of arbor-protocol(7), works" {
	man_example "$ROOT/man/arbor-protocol.7" >"$T/counter.py"
	grep -q '^send(READY, 0, b"arbor/1")$' "$T/counter.py"
	cat >"$INI" <<-EOF
		[worker py]
		command = $PY $T/counter.py
		genserver = yes

		[supervisor a]
		[supervisor a/b]

		[worker a/b/py]
		command = $PY $T/counter.py
		genserver = yes

		[worker p]
		command = $FIXBIN/protoworker
		genserver = yes
	EOF
	start
	for w in py a/b/py; do
		run ctl call "$w" increment
		assert_success
		assert_output 1
		ctl cast "$w" increment
		run ctl call "$w" get_value
		assert_output 2
		run --separate-stderr ctl call "$w" bogus
		assert_failure 1
		[ "$stderr" = "arborctl: unknown request: bogus" ]
	done
	# a C worker calls the Python one
	run ctl call p 'ask a/b/py increment'
	assert_output 'got 3'
	old=$(running_pid py)
	kill -9 "$(host_pid py)"
	wait_until restarted py "$old"
	run ctl call py get_value
	assert_output 0
}

@test "pyworker.py: a Python counter with add, from arbor-protocol(7) alone" {
	cat >"$INI" <<-EOF
		[supervisor a]

		[worker a/py]
		command = $PY $FIXTURES/pyworker.py 40
		genserver = yes
	EOF
	start
	run ctl call a/py increment
	assert_success
	assert_output 41
	ctl cast a/py 'add 1'
	run ctl call a/py get_value
	assert_output 42
	run --separate-stderr ctl call a/py 'add x'
	assert_failure 1
	[ "$stderr" = "arborctl: add: expected an integer: x" ]
}

# ---- the demo ----

@test "make demo: scripts/demo increments, kills -9, shows the counter at 0" {
	run timeout 120 env ARBOR_BUILD="$BUILD" "$ROOT/scripts/demo"
	echo "$output"
	assert_success
	# the counter's replies in order, and the kill between them
	steps=$(awk '/^\$ kill -9 [0-9]+/ { print "kill" }
		prev ~ /^\$ arborctl call web\/counter / { print }
		{ prev = $0 }' <<<"$output" | tr '\n' ' ')
	[ "$steps" = "1 2 3 3 kill 0 " ]
	assert_line --regexp '^    \| arbor: exited web/counter pid=[0-9]+ signal=SIGKILL$'
	assert_line --regexp 'counter \(worker, genserver\) running .*restarts 1$'
	assert_line 'hello world'
	assert_line 'arbor exited with status 0'
}
