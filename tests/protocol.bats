#!/usr/bin/env bats
# The worker's side of arbor-protocol(7): libarbor, counter, agent and the
# Python workers, driven by tests/fixtures/fakearbor.py playing arbor.
load helper

setup() {
	ERR=$BATS_TEST_TMPDIR/stderr
	MARKER=$BATS_TEST_TMPDIR/marker
	: >"$ERR"
}

# fake [OPTIONS] CMD...: runs CMD under fakearbor with the script on stdin;
# the worker's stderr goes to $ERR.
fake() {
	python3 "$FIXTURES/fakearbor.py" --timeout "$TIMEOUT" --stderr "$ERR" "$@"
}

proto() { fake --env "PROTO_MARKER=$MARKER" "$@" "$FIXBIN/protoworker"; }

# The EXAMPLES code of a man page: its first .EX block, roff escapes undone.
man_example() {
	awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.EE/ { exit }
	     ex && on { print } ex && /^\.EX/ { on = 1 }' "$1" |
		sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\(dq/"/g'
}

# bad_frame SCRIPT-LINE PATTERN: the counter exits 1 with one stderr line.
bad_frame() {
	run fake --max-message 100 "$WORKERS/counter" <<<"$1"
	assert_success
	assert_line --index 0 'ready arbor/1'
	assert_line 'exit 1'
	[ "$(wc -l <"$ERR")" -eq 1 ]
	grep -Eq "^counter: protocol error: $2 \(from arbor\)$" "$ERR"
}

@test "counter: increment, get_value, add, cast increment" {
	run fake "$WORKERS/counter" <<-'EOF'
	call increment
	call increment
	call get_value
	call add 5
	cast increment
	call get_value
	call add -10
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 1' 'reply 2' \
		'reply 2' 'reply 7' 'reply 8' 'reply -2' 'exit 0')"
}

@test "counter: INITIAL, errors, cast add, overflow" {
	run fake "$WORKERS/counter" 9223372036854775806 <<-'EOF'
	call get_value
	call add x1
	call frobnicate
	cast add -6
	call get_value
	call add 9223372036854775807
	call increment
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' \
		'reply 9223372036854775806' 'error add: expected an integer: x1' \
		'error unknown request: frobnicate' 'reply 9223372036854775800' \
		'error add 9223372036854775807: result out of range' \
		'reply 9223372036854775801' 'exit 0')"
}

@test "counter: a bad INITIAL exits 2 before READY" {
	run fake --no-ready "$WORKERS/counter" 12abc </dev/null
	assert_success
	assert_output 'exit 2'
	run cat "$ERR"
	assert_output 'counter: INITIAL: expected an integer: 12abc'
}

@test "agent: put, get, delete, keys" {
	run fake "$WORKERS/agent" <<-'EOF'
	call keys
	call put b two words
	call put a 1
	call get b
	call keys
	call put a 11
	call get a
	call delete a
	call delete a
	call get a
	cast put c 3
	call get c
	cast delete b
	call keys
	call put nokey
	call sing
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply ' 'reply ok' 'reply ok' \
		'reply two words' 'reply a\nb' 'reply ok' 'reply 11' 'reply ok' \
		'reply ok' 'error no such key: a' 'reply 3' 'reply c' \
		'error usage: put KEY VALUE' 'error unknown request: sing' 'exit 0')"
}

@test "agent: many keys come back sorted" {
	local script=$BATS_TEST_TMPDIR/script
	for i in $(seq 1000 -1 1); do echo "cast put k$i v$i"; done >"$script"
	echo 'call get k777' >>"$script"
	echo 'call keys' >>"$script"
	run fake "$WORKERS/agent" <"$script"
	assert_success
	assert_line --index 1 'reply v777'
	assert_line --index 2 "reply $(seq 1 1000 | sed 's/^/k/' | LC_ALL=C sort |
		awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')"
}

@test "the fds are read from the environment, not assumed" {
	run fake --in-fd 7 --out-fd 9 "$WORKERS/counter" 41 <<<'call increment'
	assert_success
	assert_line 'reply 42'
}

@test "a worker not started by arbor says so and exits 1" {
	run env -u ARBOR_IN_FD "$WORKERS/counter"
	assert_failure 1
	assert_output --partial 'ARBOR_IN_FD is not set'
}

@test "a worker that does not speak ARBOR_PROTOCOL exits without sending" {
	run fake --no-ready --protocol 2 "$WORKERS/counter" </dev/null
	assert_success
	assert_output 'exit 1'
	grep -q 'ARBOR_PROTOCOL=2: this worker speaks arbor protocol 1 only' "$ERR"
}

@test "a frame split byte by byte is read whole" {
	run fake "$WORKERS/counter" <<-'EOF'
	dribble CALL 5 add 3
	next
	call get_value
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 3' 'reply 3' 'exit 0')"
}

@test "SIGTERM runs terminate(shutdown) and exits 0" {
	run proto <<-'EOF'
	call echo hi
	signal TERM
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply hi' 'exit 0')"
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "SIGTERM during a callback: it finishes and answers, then terminate(shutdown)" {
	# the callback's child signals the worker while system() waits for it
	run proto <<-'EOF'
	call run kill -TERM $PPID
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 0' 'exit 0')"
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "SIGINT during an outgoing call ends it (stopping), then terminate(shutdown)" {
	run proto --route x/y=silent <<-'EOF'
	frame CALL 7 ask x/y hello
	next
	signal INT
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'call 1 x/y hello' \
		'error failed (Operation canceled): stopping' 'exit 0')"
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "EOF on the request pipe runs terminate(shutdown) and exits 0" {
	run proto <<-'EOF'
	call echo hi
	close
	wait
	EOF
	assert_success
	assert_line 'exit 0'
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "EPIPE on the reply pipe is a stop, not a death by SIGPIPE" {
	run proto <<-'EOF'
	closeout
	info hello
	wait
	EOF
	assert_success
	assert_line 'exit 0'
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "malformed frame: bad version" {
	bad_frame 'header 0 2 1 0 1' 'unsupported protocol version 2 \(expected 1\)'
}

@test "malformed frame: unknown type" {
	bad_frame 'header 0 1 42 0 0' 'unknown frame type 42'
}

@test "malformed frame: oversized" {
	bad_frame 'header 101 1 2 0 0' 'frame of 101 bytes over max_message 100'
}

@test "malformed frame: reserved flags" {
	bad_frame 'header 0 1 2 0x8000 0' 'reserved flags 0x8000 set'
}

@test "malformed frame: REPLY to no call" {
	bad_frame 'frame REPLY 99 hello' 'REPLY 99 answers no call'
}

@test "malformed frame: CALL with id 0" {
	bad_frame 'frame CALL 0 increment' 'CALL with id 0'
}

@test "malformed frame: a reserved supervisor frame" {
	bad_frame 'frame EVENT 0 x' 'unexpected EVENT frame'
}

@test "arbor_send_after delivers handle_info, and a timer can be cancelled" {
	run proto <<-'EOF'
	call after 600000 never
	call cancel 1
	call cancel 1
	call after 0 soon
	next
	call notes
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 1' 'reply ok' \
		'error No such file or directory' 'reply 2' 'cast test/sink info soon' \
		'reply info:soon' 'exit 0')"
}

@test "a timer set in init fires after READY" {
	run proto --env PROTO_INIT=after:0 <<<'next'
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'cast test/sink info tick' 'exit 0')"
}

@test "INFO from arbor reaches handle_info" {
	run proto <<-'EOF'
	info ping
	next
	EOF
	assert_success
	assert_line --index 1 'cast test/sink info ping'
}

@test "arbor_stop(normal) sends STOP, runs terminate, exits 0" {
	run proto <<-'EOF'
	frame CALL 1 stop normal
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'stop normal' 'exit 0')"
	run cat "$MARKER"
	assert_output 'terminate normal'
}

@test "arbor_stop(crash) sends STOP, runs terminate, exits 1" {
	run proto <<-'EOF'
	frame CALL 1 stop crash
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'stop crash' 'exit 1')"
	run cat "$MARKER"
	assert_output 'terminate crash'
}

@test "init failing exits with its status, without READY or terminate" {
	run proto --no-ready --env PROTO_INIT=fail:3 </dev/null
	assert_success
	assert_output 'exit 3'
	[ ! -e "$MARKER" ]
	run proto --no-ready --env PROTO_INIT=stop:broken </dev/null
	assert_output 'exit 1'
	grep -q 'stopping: broken' "$ERR"
}

@test "a worker's CALL carries PATH NUL MESSAGE and gets its answer" {
	run proto --route db/agent='reply:v1' --route db/down=error:noproc <<-'EOF'
	call ask db/agent get k
	call ask db/down get k
	call ask db/none get k
	call ask test/worker echo me
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'call 1 db/agent get k' \
		'reply got v1' 'call 2 db/down get k' 'error failed (remote): noproc' \
		'call 3 db/none get k' 'error failed (remote): no such child: db/none' \
		'error failed (Resource deadlock avoided): calling itself' 'exit 0')"
}

@test "a worker's CAST and INFO carry PATH NUL MESSAGE" {
	run proto <<-'EOF'
	call tell db/agent put k two words
	call send web/api hello
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'cast db/agent put k two words' \
		'reply ok' 'info web/api hello' 'reply ok' 'exit 0')"
}

@test "frames that arrive during an outgoing call wait, in order" {
	run proto --route x/y=silent <<-'EOF'
	frame CALL 7 ask x/y hello
	next
	cast note 1
	cast note 2
	frame CALL 8 notes
	frame REPLY 1 pong
	next
	next
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'call 1 x/y hello' \
		'reply got pong' 'reply note 1,note 2' 'exit 0')"
}

@test "an outgoing call times out locally and its late reply is dropped" {
	run proto --route x/y=silent --env PROTO_CALL_TIMEOUT=50 <<-'EOF'
	call ask x/y hello
	frame REPLY 1 too late
	call echo alive
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'call 1 x/y hello' \
		'error failed (local timeout): timeout' 'reply alive' 'exit 0')"
}

@test "a reply over max_message becomes an error" {
	run proto --max-message 100 <<-'EOF'
	call big 100
	call big 101
	EOF
	assert_success
	assert_line --index 1 "reply $(printf 'x%.0s' $(seq 100))"
	assert_line --index 2 'error reply of 101 bytes over max_message 100'
}

@test "ARBOR_PATH is the worker's path" {
	run proto --path web/deep/worker <<<'call path'
	assert_success
	assert_line 'reply web/deep/worker'
}

@test "the Python counter of tests/fixtures speaks the protocol" {
	run fake --env "PYWORKER_MARKER=$MARKER" "$FIXTURES/pyworker.py" 10 <<-'EOF'
	call increment
	call add 5
	cast add -1
	call get_value
	call add x
	call nope
	signal TERM
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 11' 'reply 16' 'reply 15' \
		'error add: expected an integer: x' 'error unknown request: nope' 'exit 0')"
	run cat "$MARKER"
	assert_output 'terminate shutdown'
}

@test "the Python counter refuses a malformed frame" {
	run fake "$FIXTURES/pyworker.py" <<<'header 0 1 42 0 0'
	assert_success
	assert_line 'exit 1'
	grep -q 'protocol error: unexpected frame type 42' "$ERR"
}

@test "the Python example of arbor-protocol(7) works as written" {
	man_example "$ROOT/man/arbor-protocol.7" >"$BATS_TEST_TMPDIR/counter.py"
	run fake python3 "$BATS_TEST_TMPDIR/counter.py" <<-'EOF'
	call increment
	cast increment
	call get_value
	call nope
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 1' 'reply 2' \
		'error unknown request: nope' 'exit 0')"
}

@test "the C example of libarbor(3) builds and works as written" {
	local san
	# A sanitized libarbor.a (make SANITIZE=1) needs its runtime.
	san=$(grep -o -- '-fsanitize=[^ ]*' "$BUILD/.flags" 2>/dev/null | head -n1)
	man_example "$ROOT/man/libarbor.3" >"$BATS_TEST_TMPDIR/hits.c"
	cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter $san -I"$ROOT/workers" \
		-o "$BATS_TEST_TMPDIR/hits" "$BATS_TEST_TMPDIR/hits.c" "$BUILD/libarbor.a"
	run fake "$BATS_TEST_TMPDIR/hits" <<-'EOF'
	call hit
	call hit
	call hits
	frame CALL 9 quit
	wait
	EOF
	assert_success
	assert_output "$(printf '%s\n' 'ready arbor/1' 'reply 1' 'reply 2' 'reply 2' \
		'stop normal' 'exit 0')"
}

@test "badframes.py writes each fault it names" {
	local f
	for f in badlen oversize badtype badversion badflags garbage orphanreply \
		callzero reserved; do
		run fake --max-message 1000 "$FIXTURES/badframes.py" <<-EOF
		call ping
		call $f
		EOF
		assert_failure 3
		assert_line --index 1 'reply pong'
		assert_line --index 2 --regexp '^bad frame: '
	done
	run fake --no-ready --env BADFRAMES_EARLY=badtype "$FIXTURES/badframes.py" </dev/null
	assert_failure 3
	assert_output --partial 'bad frame: unknown frame type 42'
}

@test "counter and agent leak nothing under valgrind" {
	[ -n "${ARBOR_VALGRIND:-}" ] || skip "make check VALGRIND=1"
	! sanitized || skip "an ASan build cannot run under valgrind"
	local vg="valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99"
	run fake $vg "$WORKERS/counter" 3 <<-'EOF'
	call increment
	call add x
	cast increment
	call get_value
	EOF
	assert_success
	assert_line 'exit 0'
	run fake $vg "$WORKERS/agent" <<-'EOF'
	call put a 1
	call put b 2
	cast put c 3
	call keys
	call delete a
	call get a
	EOF
	assert_success
	assert_line 'exit 0'
	run fake $vg "$WORKERS/agent" <<-'EOF'
	call put a 1
	signal TERM
	wait
	EOF
	assert_success
	assert_line 'exit 0'
}
