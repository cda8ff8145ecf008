#!/usr/bin/env bats
# OTP's restart strategies on real process trees: which pids change, which do
# not, and the exact order of the stops and starts a restart makes. Every
# worker here is ready on fd 3 only after it has logged its start, so the
# order of $EV is the order arbor started and stopped them.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

# four_workers STRATEGY: a root with a, b, c, d (ready on fd 3).
four_workers() {
	cat >"$INI" <<EOF
[supervisor]
strategy = $1
intensity = 5
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

[worker d]
command = $W d ready
ready = fd:3
EOF
}

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
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ] && [ "$(wpid d)" = "$d" ]
	ns_alive "$a" && ns_alive "$c" && ns_alive "$d"
	run grep -E '^arbor: (exited|restarting) b ' "$LOG"
	assert_line -n 0 "arbor: exited b pid=$b signal=SIGKILL"
	assert_line -n 1 "arbor: restarting b restart=1/5 period=30000ms strategy=one_for_one"
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	tree_stop
}

@test "one_for_all: the others stop in reverse, then all start in order" {
	four_workers one_for_all
	tree_start
	local a b c d m
	a=$(wpid a) b=$(wpid b) c=$(wpid c) d=$(wpid d)
	m=$(ev_mark)
	ns_kill KILL "$b"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "stop d" "stop c" "stop a" \
		"start a" "ready a" "start b" "ready b" "start c" "ready c" "start d" "ready d"
	[ "$(wpid a)" != "$a" ] && [ "$(wpid b)" != "$b" ]
	[ "$(wpid c)" != "$c" ] && [ "$(wpid d)" != "$d" ]
	wait_ns_gone "$a" "$c" "$d"
	# One decision, however many children it restarts.
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	grep -Fqx "arbor: restarting b restart=1/5 period=30000ms strategy=one_for_all" "$LOG"
	# The bystanders were stopped by arbor, not crashed.
	grep -Eq "^arbor: stopped d pid=$d (signal=SIGTERM|status=0)$" "$LOG"
	tree_stop
}

@test "one_for_all: the failure of the first child restarts every child" {
	four_workers one_for_all
	tree_start
	local m a=$(wpid a)
	m=$(ev_mark)
	ns_kill KILL "$a"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "stop d" "stop c" "stop b" \
		"start a" "ready a" "start b" "ready b" "start c" "ready c" "start d" "ready d"
	tree_stop
}

@test "rest_for_one: the children after the failed one restart, those before do not" {
	four_workers rest_for_one
	tree_start
	local a b c d m
	a=$(wpid a) b=$(wpid b) c=$(wpid c) d=$(wpid d)
	m=$(ev_mark)
	ns_kill KILL "$b"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "stop d" "stop c" \
		"start b" "ready b" "start c" "ready c" "start d" "ready d"
	[ "$(wpid a)" = "$a" ] && ns_alive "$a"
	[ "$(wpid b)" != "$b" ] && [ "$(wpid c)" != "$c" ] && [ "$(wpid d)" != "$d" ]
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 1 ]
	grep -Fqx "arbor: restarting b restart=1/5 period=30000ms strategy=rest_for_one" "$LOG"
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
	[ "$(wpid a)" = "$a" ] && [ "$(wpid b)" = "$b" ] && [ "$(wpid c)" = "$c" ]
	tree_stop
}

@test "rest_for_one: the failure of the first child restarts all, in order" {
	four_workers rest_for_one
	tree_start
	local m a=$(wpid a)
	m=$(ev_mark)
	ns_kill KILL "$a"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "stop d" "stop c" "stop b" \
		"start a" "ready a" "start b" "ready b" "start c" "ready c" "start d" "ready d"
	tree_stop
}

@test "one_for_all: a temporary bystander is stopped and not started again" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[worker t]
command = $W t ready
ready = fd:3
restart = temporary

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local m a=$(wpid a) t=$(wpid t)
	m=$(ev_mark)
	ns_kill KILL "$a"
	wait_ev '^ready c$' 2
	ev_since "$m" | assert_seq "stop c" "stop t" "start a" "ready a" "start c" "ready c"
	wait_ns_gone "$t"
	[ "$(wpid t)" = "$t" ]
	# Once stopped, a temporary child is gone for good: the next restart
	# neither stops nor starts it.
	m=$(ev_mark)
	ns_kill KILL "$(wpid c)"
	wait_ev '^ready c$' 3
	ev_since "$m" | assert_seq "stop a" "start a" "ready a" "start c" "ready c"
	tree_stop
}

@test "rest_for_one: a temporary child after the failed one is stopped for good" {
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
intensity = 5
period = 30

[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b ready
ready = fd:3

[worker t]
command = $W t ready
ready = fd:3
restart = temporary

[worker d]
command = $W d ready
ready = fd:3
EOF
	tree_start
	local m
	m=$(ev_mark)
	ns_kill KILL "$(wpid b)"
	wait_ev '^ready d$' 2
	ev_since "$m" | assert_seq "stop d" "stop t" "start b" "ready b" "start d" "ready d"
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
	ns_alive "$(wpid a)" && ns_alive "$(wpid b)" && ns_alive "$(wpid c)"
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
	[ "$(wpid a)" = "$a" ] && ns_alive "$a"
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
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
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
	ns_alive "$(wpid a)" && ns_alive "$(wpid b)" && ns_alive "$(wpid c)"
	tree_stop
}

@test "one_for_all: a child killed while it starts again does not leave a later sibling down" {
	# b is never ready on its second start: it is killed while it starts,
	# in the middle of the restart a's death began (c is down then).
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
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
	local m
	m=$(ev_mark)
	ns_kill KILL "$(wpid a)"
	wait_ev '^start b$' 2
	ns_kill KILL "$(wpid b)"
	wait_log "$LOG" '^arbor: restarting b restart=2/5 '
	# However the restarts go, the tree ends with all three running.
	wait_until bash -c "[ \$(grep -c '^ready c$' '$EV') -ge 2 ]" || {
		cat "$EV" "$LOG" >&2
		false
	}
	ns_alive "$(wpid a)" && ns_alive "$(wpid b)" && ns_alive "$(wpid c)"
	tree_stop
}

@test "rest_for_one: a child killed while it starts again does not leave a later sibling down" {
	# b is never ready on its second start: it is killed while it starts,
	# in the middle of the restart a's death began (c is down then).
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
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
	local m
	m=$(ev_mark)
	ns_kill KILL "$(wpid a)"
	wait_ev '^start b$' 2
	ns_kill KILL "$(wpid b)"
	wait_log "$LOG" '^arbor: restarting b restart=2/5 '
	# However the restarts go, the tree ends with all three running.
	wait_until bash -c "[ \$(grep -c '^ready c$' '$EV') -ge 2 ]" || {
		cat "$EV" "$LOG" >&2
		false
	}
	ns_alive "$(wpid a)" && ns_alive "$(wpid b)" && ns_alive "$(wpid c)"
	tree_stop
}

@test "rest_for_one: a temporary child's exit touches no sibling" {
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
intensity = 0
period = 30

[worker a]
command = $W a

[worker t]
command = $W t sleep
restart = temporary

[worker c]
command = $W c
EOF
	tree_start
	local a c t
	a=$(wpid a) c=$(wpid c) t=$(wpid t)
	ns_kill KILL "$t"
	wait_log "$LOG" "^arbor: exited t pid=$t signal=SIGKILL$"
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	no_log '^arbor: (restarting|stopped|gave up) '
	tree_stop
}

@test "one_for_all: a transient child's clean exit touches no sibling" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 0
period = 30

[worker a]
command = $W a

[worker t]
command = $W t waitfile
restart = transient

[worker c]
command = $W c
EOF
	tree_start
	local a c
	a=$(wpid a) c=$(wpid c)
	touch "$D/t.go"
	wait_log "$LOG" '^arbor: exited t pid=[0-9]+ status=0$'
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	no_log '^arbor: (restarting|stopped|gave up) '
	tree_stop
}
