#!/usr/bin/env bats
# The observer: status --json's rss_kb, cpu_ms and calls_in_flight, and
# arborctl top, a full-screen view driven for real in a tmux pane.
bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 100
		period = 5

		[worker busy]
		command = /bin/sh -c 'while :; do :; done'

		[worker idle]
		command = /bin/sleep 1000

		[supervisor sub]

		[worker sub/w]
		command = $WORKERS/waiter
		genserver = yes

		[worker sub/off]
		command = /bin/sleep 1000
	EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

teardown() {
	[ -z "${TMUX_SOCK:-}" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	arbor_teardown
}

ctl() { "$ARBORCTL" "$@"; }

# field PATH KEY: KEY of PATH's node in status --json ("null" if absent).
field() { ctl status --json | jq -r --arg p "$1" ".. | objects | select(.path? == \$p) | .$2"; }

@test "status --json: rss_kb and cpu_ms of every running node, the root included" {
	run ctl status --json
	assert_success
	for p in "" busy idle sub sub/w; do
		[ "$(field "$p" rss_kb)" -gt 0 ] || { echo "rss_kb of '$p': $(field "$p" rss_kb)"; false; }
		[ "$(field "$p" cpu_ms)" -ge 0 ]
		[ "$(field "$p" calls_in_flight)" = 0 ]
	done
	# the RSS is that node's own process: sleep's, from /proc
	pid=$(outer_pid "$(field idle pid)")
	kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	[ "$(field idle rss_kb)" -ge $((kb / 2)) ] && [ "$(field idle rss_kb)" -le $((kb * 2)) ]
}

@test "status --json: cpu_ms grows for a busy worker, not for an idle one" {
	a=$(field busy cpu_ms)
	wait_until eval "[ \$(field busy cpu_ms) -gt $((a + 200)) ]"
	[ "$(field idle cpu_ms)" -lt 100 ]
}

@test "status --json: a stopped node has no rss_kb, cpu_ms or calls_in_flight" {
	ctl stop sub/off
	[ "$(field sub/off state)" = stopped ]
	[ "$(field sub/off rss_kb)" = null ]
	[ "$(field sub/off cpu_ms)" = null ]
	[ "$(field sub/off calls_in_flight)" = null ]
}

@test "status --json: calls_in_flight counts the deferred calls to a nested worker" {
	local pids=()
	for i in 1 2 3; do
		ctl call sub/w "wait_for k" --timeout 30000 >/dev/null &
		pids+=($!)
	done
	wait_until eval '[ "$(ctl call sub/w waiting)" = 3 ]'
	# the three waiting; `waiting` itself was answered
	[ "$(field sub/w calls_in_flight)" = 3 ]
	[ "$(field sub calls_in_flight)" = 3 ]
	[ "$(field "" calls_in_flight)" = 3 ]
	[ "$(field busy calls_in_flight)" = 0 ]
	run ctl call sub/w "put k v"
	assert_output "woke 3"
	wait "${pids[@]}"
	[ "$(field sub/w calls_in_flight)" = 0 ]
}

# top_pane: arborctl top in a detached tmux pane (120x30), run by a shell
# that notes the terminal's modes before and after and top's exit status.
top_pane() {
	command -v tmux >/dev/null || skip "tmux is not installed (make test-deps installs it)"
	TMUX_SOCK=$T/tmux.sock
	# under ASan, LeakSanitizer's exit-time scan can hang for ever in a
	# process whose terminal tmux has just torn down (its tracer never sees
	# the stop): leaks are valgrind's to find here
	local lsan=
	! sanitized || lsan="export ASAN_OPTIONS=detect_leaks=0"
	cat >"$T/pane.sh" <<-EOF
		export ARBOR_SOCKET='$ARBOR_SOCKET'
		$lsan
		echo 'before top'
		stty -g >'$T/stty.before'
		'$ARBORCTL' top 2>'$T/top.err'
		rc=\$?
		stty -g >'$T/stty.after'
		echo "top exited \$rc"
		echo \$rc >'$T/top.rc'
		exec sleep 1000
	EOF
	tmux -S "$TMUX_SOCK" new-session -d -s top -x 120 -y 30 "bash $T/pane.sh"
	wait_until row idle
}

screen() { tmux -S "$TMUX_SOCK" capture-pane -p -t top; }
# row NAME: the fields of NAME's row on the screen (name state pid uptime
# restarts cpu rss health calls), the selection mark left out.
row() { screen | sed 's/^>/ /' | awk -v n="$1" '$1 == n { print; f = 1 } END { exit !f }'; }
col() { row "$1" | awk -v c="$2" '{ print $c }'; }
keys() { tmux -S "$TMUX_SOCK" send-keys -t top "$@"; }

@test "top: the tree with pid, state, restarts, CPU, RSS, health and calls, live" {
	top_pane
	screen | grep -q '^  NODE  *STATE  *PID  *UPTIME  *RESTARTS  *CPU%  *RSS  *HEALTH  *CALLS'
	for n in / busy idle sub w off; do row "$n" >/dev/null; done
	[ "$(col idle 2)" = running ]
	[ "$(col idle 3)" = "$(field idle pid)" ]
	[ "$(col idle 8)" = - ]
	[ "$(col idle 9)" = 0 ]
	[[ "$(col idle 7)" =~ ^[0-9]+[KM]$ ]]
	# CPU % from cpu_ms deltas: the busy loop shows, the sleeper does not
	wait_until eval '[ "$(col busy 6 | cut -d. -f1)" -ge 5 ] 2>/dev/null'
	[ "$(col idle 6)" = 0.0 ]
	screen | grep -q 'r: restart  s: stop  S, g: start  K: kill  q: quit'
}

@test "top: a worker killed with SIGKILL shows its restart as it happens" {
	top_pane
	old=$(col idle 3)
	[ "$(col idle 5)" = 0 ]
	kill -KILL "$(outer_pid "$old")"
	wait_until eval '[ "$(col idle 5)" = 1 ]'
	wait_until eval '[ "$(col idle 3)" != "$old" ] && [ "$(col idle 2)" = running ]'
	[ "$(col idle 3)" = "$(field idle pid)" ]
}

@test "top: j and k select a node, r restarts it, s stops it, g starts it" {
	top_pane
	old=$(col idle 3)
	screen | grep -q '^> /'
	keys j j j k
	wait_until eval "screen | grep -q '^>  *idle '"
	keys r
	wait_until eval "screen | grep -q 'restart idle: ok'"
	wait_until eval '[ "$(col idle 3)" != "$old" ] && [ "$(col idle 2)" = running ]'
	grep -q "^arbor: stopped idle pid=$old " "$LOG"
	keys s
	wait_until eval '[ "$(col idle 2)" = stopped ]'
	[ "$(field idle state)" = stopped ]
	keys g
	wait_until eval '[ "$(col idle 2)" = running ]'
	keys K
	wait_until eval "screen | grep -q 'kill idle: ok'"
	wait_log "$LOG" '^arbor: exited idle pid=[0-9]+ signal=SIGKILL$'
}

@test "top: q exits 0 and gives the terminal back as it was" {
	top_pane
	keys q
	wait_file "$T/top.rc"
	[ "$(cat "$T/top.rc")" = 0 ]
	cmp "$T/stty.before" "$T/stty.after"
	# the alternate screen is left: the shell's lines are back
	wait_until eval "screen | grep -q '^before top$'"
	screen | grep -q '^top exited 0$'
	! screen | grep -q 'NODE'
}

@test "top: SIGTERM and a lost socket restore the terminal too" {
	top_pane
	pkill -TERM -f "^$ARBORCTL top\$" -P "$(tmux -S "$TMUX_SOCK" list-panes -t top -F '#{pane_pid}')"
	wait_file "$T/top.rc"
	[ "$(cat "$T/top.rc")" = 0 ]
	cmp "$T/stty.before" "$T/stty.after"
	rm "$T/top.rc"
	tmux -S "$TMUX_SOCK" kill-server
	top_pane
	kill -KILL "$(arbor_inner_pid)"
	wait_file "$T/top.rc"
	[ "$(cat "$T/top.rc")" = 2 ]
	cmp "$T/stty.before" "$T/stty.after"
	grep -q "arborctl: cannot connect to $ARBOR_SOCKET" "$T/top.err"
	screen | grep -q '^top exited 2$'
}

@test "top: bad input" {
	run "$ARBORCTL" top extra-arg
	[ "$status" -eq 64 ]
	assert_output --partial "top: unexpected argument 'extra-arg'"
	run "$ARBORCTL" top </dev/null
	[ "$status" -eq 2 ]
	assert_output --partial "top needs a terminal"
}

@test "top and events are in arborctl -h" {
	run --separate-stderr "$ARBORCTL" -h
	assert_success
	assert_output --partial "top "
	assert_output --partial "events    [PATH] [--json]"
}
