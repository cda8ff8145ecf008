#!/usr/bin/env bats
# Deferred replies: a worker holds many calls in flight and answers them
# later, in any order (ARBOR_NOREPLY, arbor_reply()). The workers are the
# real waiter, under a nested supervisor, and pydefer.py, written from
# arbor-protocol(7) alone.
bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 1000
		period = 5

		[worker py]
		command = /usr/bin/python3 $FIXTURES/pydefer.py
		genserver = yes

		[supervisor sub]

		[worker sub/w]
		command = $WORKERS/waiter
		genserver = yes
	EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

teardown() { arbor_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# answers PATH MSG N: PATH answers MSG with N.
answers() { [ "$(ctl call "$1" "$2")" = "$3" ]; }

@test "100 calls in flight to a nested waiter are answered in the order of the puts" {
	local pids=()
	for i in $(seq 1 100); do
		{ ctl call sub/w "wait_for k$i" --timeout 60000 >"$T/out.$i" 2>&1
		  echo "$i $?" >>"$T/order"; } &
		pids+=($!)
	done
	wait_until answers sub/w waiting 100
	[ ! -e "$T/order" ]
	for i in $(seq 100 -1 1); do
		run ctl call sub/w "put k$i v$i"
		assert_output "woke 1"
	done
	wait_count "$T/order" . 100
	wait "${pids[@]}"
	for i in $(seq 1 100); do
		[ "$(cat "$T/out.$i")" = "v$i" ] || { echo "call $i: $(cat "$T/out.$i")"; false; }
	done
	[ "$(grep -c ' 0$' "$T/order")" = 100 ]
	# answered last first: not the order they were sent in
	[ "$(head -n1 "$T/order")" != "1 0" ]
	[ "$(cut -d' ' -f1 "$T/order" | head -n50 | sort -n | tail -n1)" -gt 50 ]
	answers sub/w waiting 0
	run ! grep 'protocol error' "$LOG"
}

@test "100 calls held by a Python worker get their own answers, last first" {
	local pids=()
	for i in $(seq 1 100); do
		ctl call py "echo $i" --timeout 60000 >"$T/out.$i" 2>&1 &
		pids+=($!)
	done
	wait_until answers py held 100
	run ctl call py release
	assert_output "released 100"
	wait "${pids[@]}"
	for i in $(seq 1 100); do
		[ "$(cat "$T/out.$i")" = "echo $i" ] || { echo "call $i: $(cat "$T/out.$i")"; false; }
	done
	answers py held 0
}

@test "a deferred call whose worker dies answers an error" {
	ctl call sub/w "wait_for never" --timeout 60000 >"$T/out" 2>"$T/err" &
	local call=$! st=0
	wait_until answers sub/w waiting 1
	ctl kill sub/w KILL
	wait "$call" || st=$?
	[ "$st" = 1 ]
	grep -q 'worker exited' "$T/err"
	[ ! -s "$T/out" ]
	wait_until answers sub/w waiting 0
}

@test "a reply after the call timed out is dropped and the worker lives on" {
	local pid
	pid=$(ctl status sub/w --json | jq -er .pid)
	run ctl call sub/w "wait_for late" --timeout 200
	[ "$status" = 1 ]
	assert_output --partial timeout
	run ctl call sub/w "put late v"
	assert_output "woke 1"
	answers sub/w "wait_for late" v
	answers sub/w waiting 0
	[ "$(ctl status sub/w --json | jq -er .pid)" = "$pid" ]
	run ! grep 'protocol error' "$LOG"
}

@test "waiter answers after a delay by its timer, and refuses bad input" {
	answers sub/w "after 0 hello there" "hello there"
	run ctl call sub/w "after soon x"
	[ "$status" = 1 ]
	assert_output --partial "after: expected milliseconds"
	run ctl call sub/w "wait_for"
	[ "$status" = 1 ]
	assert_output --partial "wait_for: expected a key"
}
