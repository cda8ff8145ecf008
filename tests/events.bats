#!/usr/bin/env bats
# arborctl events: the supervisor events as they happen, text or JSON,
# for the whole tree or a subtree, nested supervisors' workers included;
# many followers, slow ones never blocking arbor, gone ones cleaned up.
bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 1000000
		period = 1

		[worker a]
		command = /bin/sleep 1000

		[worker flap_with_a_long_name_that_fills_a_queue_sooner]
		command = /bin/sh -c 'test -e $T/go && exit 1; exec sleep 1000'

		[supervisor sub]
		intensity = 100
		period = 5

		[worker sub/w]
		command = /bin/sleep 1000

		[worker sub/probe]
		command = /bin/sleep 1000
	EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

teardown() {
	for p in ${FOLLOWERS:-}; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	arbor_teardown
}

ctl() { "$ARBORCTL" "$@"; }
FLAP=flap_with_a_long_name_that_fills_a_queue_sooner

# follow OUT ARGS...: arborctl events ARGS in the background into OUT,
# and waits until it is following: the probe under PROBE (default
# sub/probe) is restarted until OUT shows it.
follow() {
	local out=$1
	shift
	"$ARBORCTL" events "$@" >"$out" 2>"$out.err" &
	FOLLOWERS="${FOLLOWERS:-} $!"
	LAST=$!
	wait_until eval "ctl restart ${PROBE:-sub/probe} >/dev/null; grep -q 'started ${PROBE:-sub/probe}\|\"started\",\"path\":\"${PROBE:-sub/probe}\"' '$out'"
}

# outer pid of a worker, by path
wpid() { outer_pid "$(ctl status --json | jq -r --arg p "$1" '.. | objects | select(.path? == $p) | .pid')"; }

@test "events: text lines as in the log, a nested supervisor's worker's exit and restart included" {
	follow "$T/ev"
	kill -KILL "$(wpid sub/w)"
	wait_log "$T/ev" '^arbor: started sub/w pid='
	grep -q '^arbor: exited sub/w pid=[0-9]* signal=SIGKILL$' "$T/ev"
	grep -q '^arbor: restarting sub/w restart=1/100 period=5000ms strategy=one_for_one$' "$T/ev"
	# the same lines as arbor's own log
	line=$(grep '^arbor: exited sub/w' "$T/ev")
	grep -qxF "$line" "$LOG"
	kill -KILL "$(wpid a)"
	wait_log "$T/ev" '^arbor: started a pid='
	grep -q '^arbor: exited a pid=[0-9]* signal=SIGKILL$' "$T/ev"
}

@test "events --json: one object per line, the fields of log_format = json" {
	follow "$T/ev" --json
	kill -KILL "$(wpid sub/w)"
	wait_log "$T/ev" '"event":"started","path":"sub/w"'
	jq -e . "$T/ev" >/dev/null
	run jq -c 'select(.event == "exited" and .path == "sub/w") | [.signal, (.pid | type), (.arbor_pid | type), (.time | test("^[0-9-]+T[0-9:.]+Z$"))]' "$T/ev"
	assert_output '["SIGKILL","number","number",true]'
	run jq -r 'select(.event == "restarting" and .path == "sub/w") | .restart' "$T/ev"
	assert_output "1/100"
}

@test "events PATH: only that subtree" {
	PROBE=sub/probe follow "$T/sub" sub
	PROBE=a follow "$T/a" a
	kill -KILL "$(wpid a)"
	kill -KILL "$(wpid sub/w)"
	wait_log "$T/sub" 'started sub/w'
	wait_log "$T/a" 'started a pid='
	! grep -q ' a pid=\| a$\|restarting a ' "$T/sub"
	! grep -q 'sub' "$T/a"
}

@test "events: many followers see the same events; arbor's end ends them with status 0" {
	follow "$T/f1"
	f1=$LAST
	follow "$T/f2" --json
	f2=$LAST
	follow "$T/f3" sub
	f3=$LAST
	kill -KILL "$(wpid sub/w)"
	for f in f1 f2 f3; do wait_log "$T/$f" 'started.*sub/w'; done
	ctl shutdown
	for p in $f1 $f2 $f3; do
		wait "$p"
	done
	# the last event, then the end
	[ "$(tail -n1 "$T/f1")" = "arbor: shut down / status=0" ]
	[ "$(tail -n1 "$T/f2" | jq -r '.event + " " + .path')" = "shut down " ]
	grep -q '^arbor: shut down sub status=0$' "$T/f3"
	tail -n1 "$T/f3" | grep -q '^arbor: stopped sub pid=[0-9]* status=0$'
	[ ! -s "$T/f1.err" ]
}

@test "events: a follower that does not read never blocks arbor; it hears what was dropped" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind slows the 1500 restarts this needs past the wait"
	follow "$T/slow"
	slow=$LAST
	kill -STOP "$slow"
	touch "$T/go"
	kill -KILL "$(wpid $FLAP)"
	# far more than the follower's queue (64 KiB) and its socket hold
	TIMEOUT=90 wait_until eval "[ \$(grep -c 'started $FLAP' '$LOG') -gt 1500 ]"
	run timeout 5 "$ARBORCTL" status a
	assert_success
	ctl kill a
	rm "$T/go"
	wait_until eval "ctl status --json | jq -e '.children[] | select(.path == \"$FLAP\") | .state == \"running\"' >/dev/null"
	kill -CONT "$slow"
	wait_log "$T/slow" '^arbor: dropped / count=[0-9]+$'
	# one line for the episode, not one per event
	[ "$(grep -c dropped "$T/slow")" = 1 ]
	# and the stream goes on
	kill -KILL "$(wpid sub/w)"
	wait_log "$T/slow" 'started sub/w'
}

@test "events: followers that go away are cleaned up" {
	local pids=() inner fds
	inner=$(arbor_inner_pid)
	fds=$(ls "/proc/$inner/fd" | wc -l)
	for i in $(seq 1 10); do
		follow "$T/f$i"
		pids+=($LAST)
	done
	[ "$(ls "/proc/$inner/fd" | wc -l)" -ge $((fds + 10)) ]
	kill "${pids[@]}"
	wait_until eval "[ \$(ls /proc/$inner/fd | wc -l) -le $fds ]"
	# an event with the followers gone: arbor goes on
	kill -KILL "$(wpid sub/w)"
	wait_count "$LOG" '^arbor: started sub/w ' 2
	wait_until ctl ping
}

@test "events: bad input" {
	run ctl events /nope
	[ "$status" -eq 1 ]
	assert_output "arborctl: no such child: nope"
	run ctl events --bogus
	[ "$status" -eq 64 ]
	assert_output --partial "unknown option '--bogus'"
	run ctl events a b
	[ "$status" -eq 64 ]
	assert_output --partial "unexpected argument 'b'"
	run ctl tree --json
	[ "$status" -eq 64 ]
	assert_output --partial "--json is for status and events only"
}
