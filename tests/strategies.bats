#!/usr/bin/env bats
# OTP's restart strategies on real process trees: which pids change, which do
# not, and the exact order of the stops and starts a restart makes. Every
# worker here is ready on fd 3 only after it has logged its start, so the
# order of $EV is the order arbor started and stopped them.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

# group_tree STRATEGY INTENSITY SPEC...: a root with that strategy and
# intensity (period 30 s) and a worker per SPEC, NAME[:MODE[:RESTART]] in
# start order: $W NAME MODE (MODE ready by default; the ready modes report
# on fd 3).
group_tree() {
	local spec name mode restart
	printf '[supervisor]\nstrategy = %s\nintensity = %s\nperiod = 30\n' "$1" "$2" >"$INI"
	shift 2
	for spec; do
		IFS=: read -r name mode restart <<<"$spec"
		mode=${mode:-ready}
		printf '\n[worker %s]\ncommand = %s %s %s\n' "$name" "$W" "$name" "$mode" >>"$INI"
		case $mode in
		*ready*) echo 'ready = fd:3' >>"$INI" ;;
		esac
		[ -z "$restart" ] || echo "restart = $restart" >>"$INI"
	done
}

# four_workers STRATEGY: a root with a, b, c, d (ready on fd 3).
four_workers() { group_tree "$1" 5 a b c d; }

@test "one_for_one: only the failed child is restarted" {
	four_workers one_for_one
	tree_start
	local a b c d m
	a=$(wpid a) b=$(wpid b) c=$(wpid c) d=$(wpid d)
	m=$(ev_mark)
	ns_kill KILL "$b"
	wait_new_wpid b "$b"
	wait_ev '^ready b$' 2
	ev_since "$m" | assert_seq "start b" "ready b"
	[ "$(wpid a)" = "$a" ]
	[ "$(wpid c)" = "$c" ]
	[ "$(wpid d)" = "$d" ]
	ns_alive "$a"
	ns_alive "$c"
	ns_alive "$d"
	run grep -E '^arbor: (exited|restarting) b ' "$LOG"
	assert_line -n 0 "arbor: exited b pid=$b signal=SIGKILL"
	assert_line -n 1 "arbor: restarting b restart=1/5 period=30000ms strategy=one_for_one"
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	tree_stop
}

@test "rest_for_one: the failure of the last child restarts only it" {
	four_workers rest_for_one
	tree_start
	local a b c d m
	a=$(wpid a) b=$(wpid b) c=$(wpid c) d=$(wpid d)
	m=$(ev_mark)
	ns_kill KILL "$d"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "start d" "ready d"
	[ "$(wpid a)" = "$a" ]
	[ "$(wpid b)" = "$b" ]
	[ "$(wpid c)" = "$c" ]
	tree_stop
}

@test "one_for_all: a transient child that ended normally starts again with its siblings (as OTP)" {
	# OTP keeps a transient child that exited normally in its child list
	# (pid undefined), and start_children/2 of a one_for_all restart
	# starts every child of that list.
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[worker job]
command = $W job waitfile
restart = transient

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	touch "$D/job.go"
	wait_log "$LOG" '^arbor: exited job pid=[0-9]+ status=0$'
	ns_kill KILL "$(wpid a)"
	wait_log_n '^arbor: started c ' 2
	sed -n '/^arbor: restarting a /,$p' "$LOG" | grep -E '^arbor: (started|stopped) ' |
		sed -E 's/ pid=.*//' |
		assert_seq "arbor: stopped c" "arbor: started a" "arbor: started job" "arbor: started c"
	tree_stop
}

@test "one_for_all: two children killed together make one restart decision" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 1
period = 30

[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local a b c
	a=$(wpid a) b=$(wpid b) c=$(wpid c)
	ns_kill KILL "$b" "$c"
	wait_new_wpid a "$a"
	wait_new_wpid c "$c"
	wait_ev '^ready c$' 2
	[ "$(wpid b)" != "$b" ]
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	no_log '^arbor: gave up'
	ns_alive "$(wpid a)"
	ns_alive "$(wpid b)"
	ns_alive "$(wpid c)"
	tree_stop
}

@test "rest_for_one: a killed nested supervisor restarts with the children after it" {
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[supervisor n]

[worker n/x]
command = $W n/x ready
ready = fd:3

[worker n/y]
command = $W n/y ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local a x y c n m
	a=$(wpid a) x=$(wpid n/x) y=$(wpid n/y) c=$(wpid c) n=$(log_pid n)
	[ -n "$n" ]
	m=$(ev_mark)
	ns_kill KILL "$n"
	wait_ev '^ready c$' 2
	# n's workers die with it (no orderly stop), c is stopped, then n's
	# subtree and c start again in order.
	ev_since "$m" | grep -v '^stop n/' |
		assert_seq "stop c" "start n/x" "ready n/x" "start n/y" "ready n/y" "start c" "ready c"
	wait_ns_gone "$x" "$y" "$c"
	[ "$(wpid a)" = "$a" ]
	ns_alive "$a"
	grep -Eq "^arbor: exited n pid=$n signal=SIGKILL$" "$LOG"
	grep -Fq "arbor: restarting n restart=1/5 period=30000ms strategy=rest_for_one" "$LOG"
	tree_stop
}

@test "one_for_all inside a nested supervisor leaves the root's other children alone" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_one
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[supervisor n]
strategy = one_for_all
intensity = 5
period = 30

[worker n/x]
command = $W n/x ready
ready = fd:3

[worker n/y]
command = $W n/y ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local a c n m
	a=$(wpid a) c=$(wpid c) n=$(log_pid n)
	m=$(ev_mark)
	ns_kill KILL "$(wpid n/y)"
	wait_ev '^ready n/y$' 2
	ev_since "$m" | assert_seq "stop n/x" "start n/x" "ready n/x" "start n/y" "ready n/y"
	[ "$(wpid a)" = "$a" ]
	[ "$(wpid c)" = "$c" ]
	ns_alive "$n"
	no_log '^arbor: (exited|restarting) n '
	grep -Fq "arbor: restarting n/y restart=1/5 period=30000ms strategy=one_for_all" "$LOG"
	tree_stop
}

# slow_three STRATEGY: a, b, c, each ready half a second after it starts.
slow_three() {
	cat >"$INI" <<EOF
[supervisor]
strategy = $1
intensity = 5
period = 30

[worker a]
command = $W a slowready
ready = fd:3

[worker b]
command = $W b slowready
ready = fd:3

[worker c]
command = $W c slowready
ready = fd:3
EOF
}

@test "one_for_all: a child that dies again during its siblings' restart restarts them all again" {
	slow_three one_for_all
	tree_start
	local m
	m=$(ev_mark)
	ns_kill KILL "$(wpid a)"
	wait_ev '^start b$' 2
	ns_kill KILL "$(wpid a)"
	wait_log "$LOG" '^arbor: restarting a restart=2/5 '
	wait_ev '^ready c$' 3
	ev_since "$m" | assert_seq "stop c" "stop b" "start a" "ready a" "start b" "ready b" \
		"start c" "ready c" "stop c" "stop b" "start a" "ready a" "start b" "ready b" \
		"start c" "ready c"
	ns_alive "$(wpid a)"
	ns_alive "$(wpid b)"
	ns_alive "$(wpid c)"
	tree_stop
}


# --- one_for_all and rest_for_one: one set of tests, run for both ---
#
# Each behaviour below is one function that takes the strategy. The two
# strategies differ only in which siblings a restart takes along
# (restarted_with); each function checks the same things for both.

# restarted_with STRATEGY FAILED KID...: the children among KID... (in start
# order) that FAILED's restart stops and starts again: all of them for
# one_for_all, FAILED and those after it for rest_for_one.
restarted_with() {
	local s=$1 failed=$2 k seen=
	shift 2
	for k; do
		[ "$k" = "$failed" ] && seen=1
		if [ "$s" = one_for_all ] || [ -n "$seen" ]; then
			echo "$k"
		fi
	done
}

# assert_restart FAILED KID...: the events on stdin are exactly those of
# FAILED's restart of KID... (in start order): the others stop in reverse
# order, then each starts and is ready in order. A KID written -NAME is
# stopped and not started again.
assert_restart() {
	local failed=$1 i k kids want=()
	shift
	kids=("$@")
	for ((i = ${#kids[@]} - 1; i >= 0; i--)); do
		k=${kids[i]#-}
		[ "$k" = "$failed" ] || want+=("stop $k")
	done
	for k in "${kids[@]}"; do
		[ "${k#-}" = "$k" ] && want+=("start $k" "ready $k")
	done
	assert_seq "${want[@]}"
}

# The second child fails: its group stops in reverse and starts in order,
# in one restart decision; the children outside the group keep running.
second_child_fails() {
	local s=$1 k m group
	local -A was
	four_workers "$s"
	tree_start
	for k in a b c d; do was[$k]=$(wpid "$k"); done
	group=$(restarted_with "$s" b a b c d)
	m=$(ev_mark)
	ns_kill KILL "${was[b]}"
	wait_ev '^ready d$' 2
	# shellcheck disable=SC2086 # one word per child
	ev_since "$m" | assert_restart b $group
	for k in a b c d; do
		if grep -qx "$k" <<<"$group"; then
			[ "$(wpid "$k")" != "${was[$k]}" ]
			wait_ns_gone "${was[$k]}"
		else
			[ "$(wpid "$k")" = "${was[$k]}" ]
			ns_alive "${was[$k]}"
		fi
	done
	# One decision, however many children it restarts.
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	grep -Fqx "arbor: restarting b restart=1/5 period=30000ms strategy=$s" "$LOG"
	# The bystanders were stopped by arbor, not crashed.
	grep -Eq "^arbor: stopped d pid=${was[d]} (signal=SIGTERM|status=0)$" "$LOG"
	tree_stop
}

@test "one_for_all: the second child fails: the others stop in reverse, then all start in order" {
	second_child_fails one_for_all
}

@test "rest_for_one: the second child fails: those after it restart, those before do not" {
	second_child_fails rest_for_one
}

# The first child fails: both strategies restart every child.
first_child_fails() {
	local m
	four_workers "$1"
	tree_start
	m=$(ev_mark)
	ns_kill KILL "$(wpid a)"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_restart a a b c d
	tree_stop
}

@test "one_for_all: the failure of the first child restarts every child, in order" {
	first_child_fails one_for_all
}

@test "rest_for_one: the failure of the first child restarts every child, in order" {
	first_child_fails rest_for_one
}

# A temporary bystander t (after the failed b) is stopped and never started
# again: OTP keeps no start arguments for it. The next restart neither
# stops nor starts it.
temporary_bystander() {
	local s=$1 m t group
	group_tree "$s" 5 a b t::temporary d
	tree_start
	t=$(wpid t)
	group=$(restarted_with "$s" b a b t d)
	m=$(ev_mark)
	ns_kill KILL "$(wpid b)"
	wait_ev '^ready d$' 2
	# shellcheck disable=SC2086 # one word per child
	ev_since "$m" | assert_restart b $(sed 's/^t$/-t/' <<<"$group")
	wait_ns_gone "$t"
	[ "$(wpid t)" = "$t" ]
	m=$(ev_mark)
	ns_kill KILL "$(wpid b)"
	wait_ev '^ready d$' 3
	# shellcheck disable=SC2086
	ev_since "$m" | assert_restart b $(grep -vx t <<<"$group")
	[ "$(wpid t)" = "$t" ]
	tree_stop
}

@test "one_for_all: a temporary bystander is stopped and never started again" {
	temporary_bystander one_for_all
}

@test "rest_for_one: a temporary bystander is stopped and never started again" {
	temporary_bystander rest_for_one
}

# b is never ready on its second start: it is killed while it starts, in
# the middle of the restart a's death began (c is down then). However the
# restarts go, the tree ends with all three running.
killed_while_starting() {
	cat >"$INI" <<EOF
[supervisor]
strategy = $1
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = /bin/sh -c 'n=\$((\$(cat $D/b.n 2>/dev/null || echo 0) + 1)); echo \$n >$D/b.n; [ \$n -eq 2 ] && exec $W b noready; exec $W b ready'
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	ns_kill KILL "$(wpid a)"
	wait_ev '^start b$' 2
	ns_kill KILL "$(wpid b)"
	wait_log "$LOG" '^arbor: restarting b restart=2/5 '
	wait_until bash -c "[ \$(grep -c '^ready c$' '$EV') -ge 2 ]" || {
		cat "$EV" "$LOG" >&2
		false
	}
	ns_alive "$(wpid a)"
	ns_alive "$(wpid b)"
	ns_alive "$(wpid c)"
	tree_stop
}

@test "one_for_all: a child killed while it starts again does not leave a later sibling down" {
	killed_while_starting one_for_all
}

@test "rest_for_one: a child killed while it starts again does not leave a later sibling down" {
	killed_while_starting rest_for_one
}

# ends_for_good STRATEGY RESTART: t, between a and c, ends for good (a
# temporary t is killed, a transient t exits 0). With intensity 0 any
# restart would give up: none comes, and no sibling is touched.
ends_for_good() {
	local a c t
	if [ "$2" = temporary ]; then
		group_tree "$1" 0 a:trap t:sleep:temporary c:trap
	else
		group_tree "$1" 0 a:trap t:waitfile:transient c:trap
	fi
	tree_start
	a=$(wpid a) c=$(wpid c) t=$(wpid t)
	if [ "$2" = temporary ]; then
		ns_kill KILL "$t"
		wait_log "$LOG" "^arbor: exited t pid=$t signal=SIGKILL$"
	else
		touch "$D/t.go"
		wait_log "$LOG" '^arbor: exited t pid=[0-9]+ status=0$'
	fi
	[ "$(wpid a)" = "$a" ]
	[ "$(wpid c)" = "$c" ]
	ns_alive "$a"
	ns_alive "$c"
	no_log '^arbor: (restarting|stopped|gave up) '
	tree_stop
}

@test "rest_for_one: a temporary child's exit touches no sibling" {
	ends_for_good rest_for_one temporary
}

@test "one_for_all: a transient child's clean exit touches no sibling" {
	ends_for_good one_for_all transient
}
