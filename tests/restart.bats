#!/usr/bin/env bats
# Restart types (permanent, transient, temporary), restart intensity and its
# sliding window kept to the millisecond, and the escalation of a nested
# supervisor that gives up to its parent.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

# one_worker RESTART MODE [INTENSITY [PERIOD]]: a root with the worker w.
one_worker() {
	cat >"$INI" <<EOF
[supervisor]
intensity = ${3:-5}
period = ${4:-30}

[worker w]
command = $W w $2
restart = $1
EOF
}

# --- restart types ---

@test "permanent: restarted after a clean exit, an error exit and a signal" {
	one_worker permanent waitfile
	tree_start
	local p=$(wpid w)
	touch "$D/w.go"
	wait_log "$LOG" "^arbor: exited w pid=$p status=0$"
	wait_log "$LOG" '^arbor: restarting w restart=1/5 '
	wait_new_wpid w "$p"
	p=$(wpid w)
	ns_kill TERM "$p"
	wait_log "$LOG" "^arbor: exited w pid=$p status=0$"
	wait_new_wpid w "$p"
	p=$(wpid w)
	ns_kill KILL "$p"
	wait_log "$LOG" "^arbor: exited w pid=$p signal=SIGKILL$"
	wait_new_wpid w "$p"
	wait_log "$LOG" '^arbor: restarting w restart=3/5 '
	tree_stop
}

@test "transient: not restarted after exit 0, and the exit is not counted" {
	one_worker transient waitfile 0
	tree_start
	local p=$(wpid w)
	touch "$D/w.go"
	wait_log "$LOG" "^arbor: exited w pid=$p status=0$"
	# intensity = 0: a restart would have made the root give up at once.
	no_log '^arbor: (restarting|gave up) '
	run ns_count "$W w"
	[ "$output" -eq 0 ]
	kill -0 "$ARBOR_PID"
	tree_stop
	[ "$(count_log "$EV" '^start w$')" -eq 1 ]
}

@test "transient: restarted after a non-zero exit" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 30

[worker w]
command = /bin/sh -c 'echo x >>$D/runs; [ \$(wc -l <$D/runs) -ge 2 ] && exec sleep 1000; exit 3'
restart = transient
EOF
	tree_start
	wait_log "$LOG" '^arbor: exited w pid=[0-9]+ status=3$'
	wait_log "$LOG" '^arbor: restarting w restart=1/2 period=30000ms strategy=one_for_one$'
	wait_log_n '^arbor: started w ' 2
	tree_stop
}

@test "transient: restarted after SIGTERM that arbor did not send" {
	one_worker transient sleep
	tree_start
	local p=$(wpid w)
	ns_kill TERM "$p"
	wait_log "$LOG" "^arbor: exited w pid=$p signal=SIGTERM$"
	wait_new_wpid w "$p"
	wait_log "$LOG" '^arbor: restarting w restart=1/5 '
	p=$(wpid w)
	ns_kill KILL "$p"
	wait_log "$LOG" "^arbor: exited w pid=$p signal=SIGKILL$"
	wait_new_wpid w "$p"
	tree_stop
}

@test "temporary: never restarted, whatever the exit, and never counted" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 0
period = 30

[worker k]
command = $W k sleep
restart = temporary

[worker e]
command = $W e waitfile
restart = temporary

[worker s]
command = $W s
EOF
	tree_start
	local k=$(wpid k) s=$(wpid s)
	ns_kill KILL "$k"
	wait_log "$LOG" "^arbor: exited k pid=$k signal=SIGKILL$"
	touch "$D/e.go"
	wait_log "$LOG" '^arbor: exited e pid=[0-9]+ status=0$'
	no_log '^arbor: (restarting|gave up) '
	[ "$(count_log "$EV" '^start [ke]$')" -eq 2 ]
	[ "$(wpid s)" = "$s" ] && ns_alive "$s"
	tree_stop
}

# --- intensity ---

@test "intensity: more than intensity restarts in the period make the root give up, exit 1" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 30

[worker a]
command = $W a

[worker b]
command = $W b sleep

[worker c]
command = $W c
EOF
	tree_start
	local i p m
	for i in 1 2; do
		p=$(wpid b)
		ns_kill KILL "$p"
		wait_log "$LOG" "^arbor: restarting b restart=$i/2 period=30000ms strategy=one_for_one$"
		wait_new_wpid b "$p"
	done
	m=$(ev_mark)
	ns_kill KILL "$(wpid b)"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity( |$)' "$LOG"
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 2 ]
	# The others stop in reverse order; the failed one is not started.
	ev_since "$m" | assert_seq "stop c" "stop a"
}

@test "intensity = 0: the first restart makes the supervisor give up" {
	one_worker permanent sleep 0
	tree_start
	ns_kill KILL "$(wpid w)"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
	no_log '^arbor: restarting '
	[ "$(count_log "$EV" '^start w$')" -eq 1 ]
}

@test "intensity: the default is OTP's: 1 restart in 5 seconds" {
	cat >"$INI" <<EOF
[worker w]
command = $W w sleep
EOF
	tree_start
	local p=$(wpid w)
	ns_kill KILL "$p"
	wait_log "$LOG" '^arbor: restarting w restart=1/1 period=5000ms strategy=one_for_one$'
	wait_new_wpid w "$p"
	ns_kill KILL "$(wpid w)"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
}

@test "intensity: a one_for_all restart of many children counts once" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 1
period = 30

[worker a]
command = $W a

[worker b]
command = $W b

[worker c]
command = $W c sleep
EOF
	tree_start
	local c=$(wpid c)
	ns_kill KILL "$c"
	wait_log "$LOG" '^arbor: restarting c restart=1/1 '
	wait_new_wpid c "$c"
	wait_log_n '^arbor: started c ' 2
	no_log '^arbor: gave up'
	ns_kill KILL "$(wpid a)"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
}

@test "intensity: temporary exits and clean transient exits do not count" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 1
period = 30

[worker t1]
command = $W t1 sleep
restart = temporary

[worker t2]
command = $W t2 exit:4
restart = temporary

[worker tr]
command = $W tr waitfile
restart = transient

[worker p]
command = $W p sleep
EOF
	tree_start
	ns_kill KILL "$(wpid t1)"
	touch "$D/tr.go"
	wait_log "$LOG" '^arbor: exited t1 '
	wait_log "$LOG" '^arbor: exited t2 pid=[0-9]+ status=4$'
	wait_log "$LOG" '^arbor: exited tr pid=[0-9]+ status=0$'
	local p=$(wpid p)
	ns_kill KILL "$p"
	wait_log "$LOG" '^arbor: restarting p restart=1/1 '
	wait_new_wpid p "$p"
	no_log '^arbor: gave up'
	tree_stop
}

@test "intensity: a restart that fails to start counts, and ends in a give-up" {
	# The worker's program becomes unrunnable after its first run, so
	# every restart fails at exec.
	cat >"$D/once" <<EOF
#!/bin/sh
chmod -x "$D/once"
exec sleep 1000
EOF
	chmod +x "$D/once"
	cat >"$INI" <<EOF
[supervisor]
intensity = 3
period = 30

[worker w]
command = $D/once
EOF
	tree_start
	ns_kill KILL "$(log_pid w)"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed w reason=".*(Permission denied|EACCES).*"' "$LOG"
	grep -Eq '^arbor: restarting w restart=3/3 ' "$LOG"
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
	[ "$(count_log "$LOG" '^arbor: restarting ')" -eq 3 ]
}

# --- the sliding window ---

@test "window: restarts further apart than period never add up" {
	# A crash every 1.1 s or more, with intensity 1 in period = 1: a
	# window of whole seconds would see two restarts in one second.
	cat >"$INI" <<EOF
[supervisor]
intensity = 1
period = 1

[worker w]
command = /bin/sh -c 'sleep 1.1; exit 1'
EOF
	tree_start
	wait_log "$LOG" '^arbor: restarting w restart=1/1 period=1000ms '
	wait_log_n '^arbor: restarting w restart=1/1 ' 4
	no_log '^arbor: gave up'
	[ "$(count_log "$LOG" '^arbor: restarting w restart=2/')" -eq 0 ]
	tree_stop
}

@test "window: restarts within the period add up to a give-up" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 30

[worker w]
command = /bin/sh -c 'sleep 0.2; exit 1'
EOF
	arbor_bg -c "$INI"
	tree_wait
	[ "$status" -eq 1 ]
	run grep -E '^arbor: (restarting|gave up) ' "$LOG"
	assert_line -n 0 'arbor: restarting w restart=1/2 period=30000ms strategy=one_for_one'
	assert_line -n 1 'arbor: restarting w restart=2/2 period=30000ms strategy=one_for_one'
	assert_line -n 2 --regexp '^arbor: gave up / reason=reached_max_restart_intensity'
	[ "${#lines[@]}" -eq 3 ]
}

# now_ms: the wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

@test "window: it slides: old restarts drop out one by one" {
	# intensity 2, period 1.5 s. Restarts r1, r2 about 0.75 s later, and
	# r3 once r1 has left the window: only r1 has, so r3 counts 2, not 1
	# (a window reset) and not 3 (no sliding: gave up). Each restart's time
	# is only known to lie between the kill and the moment its log line
	# is seen; when the machine is too slow for those bounds to decide,
	# the test skips, and it never waits for a line that a slow machine
	# would not write.
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 1.5

[worker w]
command = $W w sleep
EOF
	tree_start
	local p k1 l1 k2 l2 k3 l3 any='^arbor: (restarting w |gave up )'
	p=$(wpid w)
	k1=$(now_ms)
	ns_kill KILL "$p"
	wait_log "$LOG" '^arbor: restarting w restart=1/2 period=1500ms '
	l1=$(now_ms)
	wait_new_wpid w "$p"
	p=$(wpid w)
	sleep 0.75
	k2=$(now_ms)
	ns_kill KILL "$p"
	wait_log_n "$any" 2
	l2=$(now_ms)
	[ $((l2 - k1)) -lt 1500 ] || skip "too slow to hit the window: r2 within $((l2 - k1)) ms of r1"
	[ "$(count_log "$LOG" '^arbor: restarting w restart=2/2 ')" -eq 1 ]
	wait_new_wpid w "$p"
	p=$(wpid w)
	# r1 <= l1, so after l1 + 1.6 s it has left the window
	while [ $(($(now_ms) - l1)) -le 1600 ]; do sleep 0.05; done
	k3=$(now_ms)
	ns_kill KILL "$p"
	wait_log_n "$any" 3
	l3=$(now_ms)
	[ $((l3 - k2)) -lt 1500 ] || skip "too slow to hit the window: r3 within $((l3 - k2)) ms of r2"
	no_log '^arbor: gave up'
	[ "$(count_log "$LOG" '^arbor: restarting w restart=2/2 ')" -eq 2 ]
	tree_stop
}

# --- escalation ---

# nested_tree RESTART: root (one_for_one, intensity 3) with a, n (RESTART,
# intensity 1 in 30 s) holding x and y, and c.
nested_tree() {
	cat >"$INI" <<EOF
[supervisor]
intensity = ${2:-3}
period = 30

[worker a]
command = $W a ready
ready = fd:3

[supervisor n]
restart = $1
intensity = 1
period = 30

[worker n/x]
command = $W n/x ready
ready = fd:3

[worker n/y]
command = $W n/y ready
ready = fd:3

[worker n/z]
command = $W n/z ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
}

# crash_y_twice: makes n/y crash twice, so that n gives up. M is the
# event mark just before the second crash.
crash_y_twice() {
	local y=$(wpid n/y) r=$(grep -c '^ready n/y$' "$EV")
	ns_kill KILL "$y"
	wait_log "$LOG" '^arbor: restarting n/y restart=1/1 '
	wait_new_wpid n/y "$y"
	# The new n/y writes its pid before its "ready" event: wait for both.
	wait_ev '^ready n/y$' $((r + 1))
	M=$(ev_mark)
	ns_kill KILL "$(wpid n/y)"
}

@test "escalation: a permanent nested supervisor that gives up is restarted, its siblings untouched" {
	nested_tree permanent
	tree_start
	local a c n x z m
	a=$(wpid a) c=$(wpid c) n=$(log_pid n) x=$(wpid n/x) z=$(wpid n/z)
	crash_y_twice
	m=$M
	wait_log "$LOG" '^arbor: gave up n reason=reached_max_restart_intensity'
	wait_log "$LOG" '^arbor: restarting n restart=1/3 period=30000ms strategy=one_for_one$'
	wait_ev '^ready n/z$' 2
	# n stopped its other children in reverse order, then started again.
	ev_since "$m" | assert_seq "stop n/z" "stop n/x" "start n/x" "ready n/x" \
		"start n/y" "ready n/y" "start n/z" "ready n/z"
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	[ "$(log_pid n)" != "$n" ]
	wait_ns_gone "$n" "$x" "$z"
	no_log '^arbor: gave up / '
	tree_stop
}

@test "escalation: a transient nested supervisor that gives up is not restarted" {
	nested_tree transient
	tree_start
	local a c n
	a=$(wpid a) c=$(wpid c) n=$(log_pid n)
	crash_y_twice
	wait_log "$LOG" '^arbor: gave up n reason=reached_max_restart_intensity'
	wait_log "$LOG" "^arbor: exited n pid=$n status=0$"
	wait_ns_gone "$n"
	no_log '^arbor: restarting n '
	no_log '^arbor: gave up / '
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	[ "$(ns_count "$W n/")" -eq 0 ]
	tree_stop
}

@test "escalation: a transient nested supervisor killed by a signal is restarted" {
	nested_tree transient
	tree_start
	local n=$(log_pid n) x=$(wpid n/x)
	ns_kill KILL "$n"
	wait_log "$LOG" "^arbor: exited n pid=$n signal=SIGKILL$"
	wait_log "$LOG" '^arbor: restarting n restart=1/3 '
	wait_new_wpid n/x "$x"
	wait_log_n '^arbor: started n ' 2
	tree_stop
}

@test "escalation: a transient nested supervisor TERMed from outside stops its children and is restarted" {
	nested_tree transient
	tree_start
	local n=$(log_pid n) x=$(wpid n/x) y=$(wpid n/y) z=$(wpid n/z) a=$(wpid a) m
	m=$(ev_mark)
	ns_kill TERM "$n"
	wait_log "$LOG" "^arbor: exited n pid=$n signal=SIGTERM\$"
	wait_log "$LOG" '^arbor: restarting n restart=1/3 '
	wait_log_n '^arbor: started n ' 2
	wait_ev '^ready n/z$' 2
	# n stopped its subtree in reverse order before it died, then came back
	ev_since "$m" | assert_seq "stop n/z" "stop n/y" "stop n/x" "start n/x" "ready n/x" \
		"start n/y" "ready n/y" "start n/z" "ready n/z"
	wait_ns_gone "$n" "$x" "$y" "$z"
	[ "$(wpid a)" = "$a" ]
	wait_until "$ARBORCTL" ping
	# arborctl kill relays the signal as a crash, not as its stop
	n=$(log_pid n)
	"$ARBORCTL" kill n TERM
	wait_log "$LOG" "^arbor: exited n pid=$n signal=SIGTERM\$"
	wait_log "$LOG" '^arbor: restarting n restart=2/3 '
	tree_stop
}

@test "escalation: a transient nested supervisor stopped by its parent is not restarted" {
	nested_tree transient
	tree_start
	local n=$(log_pid n)
	"$ARBORCTL" stop n
	wait_log "$LOG" "^arbor: stopped n pid=$n status=0\$"
	no_log '^arbor: restarting n '
	[ "$(ns_count "$W n/")" -eq 0 ]
	"$ARBORCTL" start n
	wait_log_n '^arbor: started n ' 2
	tree_stop
	no_log '^arbor: exited n '
}

@test "escalation: the parent counts a give-up as one crash and gives up in turn" {
	nested_tree permanent 1
	tree_start
	crash_y_twice
	wait_log "$LOG" '^arbor: restarting n restart=1/1 '
	wait_log_n '^arbor: started n ' 2
	local m
	crash_y_twice
	m=$M
	tree_wait
	[ "$status" -eq 1 ]
	[ "$(count_log "$LOG" '^arbor: gave up n reason=reached_max_restart_intensity')" -eq 2 ]
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
	# The root stopped c, then a (n had already stopped its own).
	ev_since "$m" | grep -v '^stop n/' | assert_seq "stop c" "stop a"
}

@test "escalation: a nested supervisor's restarts do not count in its parent" {
	nested_tree permanent 0
	tree_start
	local y=$(wpid n/y)
	ns_kill KILL "$y"
	wait_log "$LOG" '^arbor: restarting n/y restart=1/1 '
	wait_new_wpid n/y "$y"
	no_log '^arbor: (gave up|restarting n )'
	kill -0 "$ARBOR_PID"
	tree_stop
}

# --- events ---

@test "events: one death of a nested worker is reported up once, then its start with its pid" {
	cat >"$INI" <<EOF
[supervisor n]
intensity = 5
period = 30

[worker n/w]
command = $W n/w
EOF
	tree_start -v
	local p
	p=$(wpid n/w)
	wait_log "$LOG" '^arbor: event n/w running pid='
	ns_kill KILL "$p"
	wait_new_wpid n/w "$p"
	wait_log_n '^arbor: event n/w running pid=' 2
	grep -E '^arbor: event n/w ' "$LOG" >&2
	[ "$(count_log "$LOG" '^arbor: event n/w restarting ')" -eq 1 ]
	[ "$(count_log "$LOG" '^arbor: event n/w starting pid=0 ')" -eq 0 ]
	[ "$(count_log "$LOG" '^arbor: event n/w starting pid=[1-9]')" -eq 2 ]
	[ "$(count_log "$LOG" '^arbor: event n/w ')" -eq 5 ]
	tree_stop
}

# --- many children ---

@test "100 workers killed at once are all reaped and restarted" {
	# Over 64 children a SIGCHLD reaps the one pid it names; the deaths
	# it stood for besides are reaped by the pass that follows deaths.
	# arbor is stopped while they die, so that one SIGCHLD stands for all.
	ln -s "$(command -v sleep)" "$D/sl"
	{
		printf '[supervisor]\nintensity = 1000\nperiod = 10\n'
		for i in $(seq 100); do
			printf '\n[worker w%d]\ncommand = %s 1000\n' "$i" "$D/sl"
		done
	} >"$INI"
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	wait_count "$LOG" '^arbor: started w[0-9]+ ' 100
	local init
	init=$(arbor_inner_pid)
	kill -STOP "$init"
	pkill -KILL -f "^$D/sl 1000"
	wait_until eval "! pgrep -f '^$D/sl 1000' >/dev/null"
	kill -CONT "$init"
	wait_count "$LOG" '^arbor: exited w[0-9]+ pid=[0-9]+ signal=SIGKILL$' 100
	wait_count "$LOG" '^arbor: started w[0-9]+ ' 200
	tree_stop
}
