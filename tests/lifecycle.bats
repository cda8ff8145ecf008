#!/usr/bin/env bats
# A tree's life: synchronous start in file order (readiness fd:N and
# start_timeout), a boot that fails, stop in reverse order on TERM, INT and
# QUIT, shutdown timeouts, brutal_kill and infinity, stop_signal,
# auto_shutdown, `-c FILE -- CMD`, pools, include, a nested supervisor
# killed by SIGKILL, and the JSON log.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

# --- start ---

@test "start: file order, each child once the previous one is ready, nested ones included" {
	cat >"$INI" <<EOF
[supervisor]

[worker a]
command = $W a slowready
ready = fd:3

[supervisor n]

[worker n/x]
command = $W n/x slowready
ready = fd:3

[worker n/y]
command = $W n/y ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	assert_seq "start a" "ready a" "start n/x" "ready n/x" "start n/y" "ready n/y" \
		"start c" "ready c" <"$EV"
	# A supervisor is started once all its children are.
	grep -E '^arbor: (started|ready) ' "$LOG" | sed -E 's/ pid=.*//' |
		assert_seq "arbor: started a" "arbor: started n/x" "arbor: started n/y" \
			"arbor: started n" "arbor: started c" "arbor: ready / children=3"
	tree_stop
}

@test "start: ready = fd:5 waits for the newline on fd 5" {
	cat >"$INI" <<EOF
[worker r]
command = /bin/sh -c 'echo start r >>$EV; sleep 0.5; echo ready r >>$EV; echo >&5; exec sleep 1000'
ready = fd:5

[worker b]
command = $W b ready
ready = fd:3
EOF
	tree_start
	assert_seq "start r" "ready r" "start b" "ready b" <"$EV"
	tree_stop
}

@test "start: ready = exec starts the next child without waiting for more" {
	cat >"$INI" <<EOF
[worker a]
command = $W a noready

[worker b]
command = $W b
EOF
	tree_start
	wait_ev '^start b$'
	tree_stop
}

@test "start: a child that dies while a later one starts is restarted once the boot is done" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 30

[worker a]
command = $W a sleep

[worker b]
command = $W b readyfile
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	arbor_bg -c "$INI"
	wait_ev '^start b$'
	local a=$(wpid a)
	ns_kill KILL "$a"
	wait_log "$LOG" "^arbor: exited a pid=$a signal=SIGKILL$"
	# b is still starting: the boot goes on first, as OTP's init does.
	no_log '^arbor: (restarting|gave up|start failed|cannot start) '
	touch "$D/b.go"
	wait_new_wpid a "$a"
	wait_log "$LOG" '^arbor: restarting a restart=1/5 '
	grep -E '^arbor: (started|ready|restarting) ' "$LOG" | sed -E 's/ (pid|restart|children)=.*//' |
		assert_seq "arbor: started a" "arbor: started b" "arbor: started c" "arbor: ready /" \
			"arbor: restarting a" "arbor: started a"
	tree_stop
}

@test "start_timeout: a child never ready fails the boot: the started ones stop, arbor exits 1" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b noready
ready = fd:3
start_timeout = 400

[worker c]
command = $W c
EOF
	local t0=$SECONDS
	arbor_bg -c "$INI"
	wait_ev '^start b$'
	local b=$(wpid b)
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed b reason=".*start_timeout = 400 ms.*"$' "$LOG"
	grep -Eq '^arbor: cannot start b: ' "$LOG"
	no_log '^arbor: (started|exited|stopped) c |^arbor: ready / '
	assert_seq "start a" "ready a" "start b" "stop a" <"$EV"
	grep -Eq '^arbor: stopped a pid=[0-9]+ ' "$LOG"
	# b was killed, not left behind (the namespace is gone with arbor,
	# so arbor's own log says it).
	grep -Eq '^arbor: exited b pid=[0-9]+ signal=SIGKILL$' "$LOG"
}

@test "start_timeout: a child that closes its fd without a newline is not ready" {
	cat >"$INI" <<EOF
[worker b]
command = /bin/sh -c 'exec 3>&-; exec sleep 1000'
ready = fd:3
start_timeout = 300
EOF
	arbor_bg -c "$INI"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed b reason=".*start_timeout.*"$' "$LOG"
	no_log '^arbor: started b '
}

@test "start_timeout: a restart that is never ready counts as a crash" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 30

[worker w]
command = /bin/sh -c '[ -e $D/once ] && exec sleep 1000; touch $D/once; echo >&3; exec sleep 1000'
ready = fd:3
start_timeout = 300
EOF
	tree_start
	ns_kill KILL "$(log_pid w)"
	tree_wait
	[ "$status" -eq 1 ]
	[ "$(count_log "$LOG" '^arbor: start failed w reason=".*start_timeout = 300 ms.*"$')" -eq 2 ]
	grep -Eq '^arbor: restarting w restart=2/2 ' "$LOG"
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
}

# --- boot failures ---

@test "boot failure: a program that cannot be executed: arbor stops the others and exits 1 naming it" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind runs the exec between fork and exec itself"
	printf '#!/nonexistent/interpreter\n' >"$D/bad"
	chmod +x "$D/bad"
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b ready
ready = fd:3

[worker bad]
command = $D/bad

[worker c]
command = $W c
EOF
	arbor_bg -c "$INI"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed bad reason=".+"$' "$LOG"
	grep -Eq '^arbor: cannot start bad: .*(No such file|ENOENT)' "$LOG"
	assert_seq "start a" "ready a" "start b" "ready b" "stop b" "stop a" <"$EV"
	no_log '^arbor: ready / '
}

@test "boot failure: a child that exits before it is ready fails the boot" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b exit:3
ready = fd:3

[worker c]
command = $W c
EOF
	arbor_bg -c "$INI"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: exited b pid=[0-9]+ status=3$' "$LOG"
	grep -Eq '^arbor: start failed b ' "$LOG"
	grep -Eq '^arbor: cannot start b: ' "$LOG"
	assert_seq "start a" "ready a" "start b" "stop a" <"$EV"
}

@test "boot failure in a nested supervisor fails the root's start, naming the child" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[supervisor n]

[worker n/x]
command = $W n/x ready
ready = fd:3

[worker n/y]
command = $W n/y exit:2
ready = fd:3

[worker c]
command = $W c
EOF
	arbor_bg -c "$INI"
	tree_wait
	[ "$status" -eq 1 ]
	grep -Eq '^arbor: start failed n/y ' "$LOG"
	grep -Eq '^arbor: cannot start n: ' "$LOG"
	assert_seq "start a" "ready a" "start n/x" "ready n/x" "start n/y" "stop n/x" "stop a" <"$EV"
	no_log '^arbor: ready / '
}

# --- stop ---

# stop_tree: a, n (x, y), c: all of them log their stop.
stop_tree() {
	cat >"$INI" <<EOF
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
}

# check_stop SIG: SIG to arbor stops the tree in reverse order, exit 0.
check_stop() {
	stop_tree
	tree_start
	local m n
	m=$(ev_mark) n=$(log_pid n)
	kill -"$1" "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	ev_since "$m" | assert_seq "stop c" "stop n/y" "stop n/x" "stop a"
	grep -E '^arbor: stopped ' "$LOG" | sed -E 's/ pid=.*//' |
		assert_seq "arbor: stopped c" "arbor: stopped n/y" "arbor: stopped n/x" \
			"arbor: stopped n" "arbor: stopped a"
	grep -Eq "^arbor: stopped n pid=$n status=0$" "$LOG"
	no_log '^arbor: (restarting|exited) '
	[ "$(cat "$D/c.sig")" = TERM ]
}

@test "stop: TERM stops the tree in reverse start order and arbor exits 0" { check_stop TERM; }
@test "stop: INT stops the tree in reverse start order and arbor exits 0" { check_stop INT; }
@test "stop: QUIT stops the tree in reverse start order and arbor exits 0" { check_stop QUIT; }

@test "stop: TERM during the boot stops what started, arbor exits 0" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b noready
ready = fd:3
start_timeout = 60000

[worker c]
command = $W c
EOF
	arbor_bg -c "$INI"
	wait_ev '^start b$'
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	assert_seq "start a" "ready a" "start b" "stop b" "stop a" <"$EV"
}

@test "stop: TERM in the middle of a restart stops what runs, starts nothing more" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 5
period = 30

[worker a]
command = /bin/sh -c '[ -e $D/a.once ] && exec $W a noready; touch $D/a.once; exec $W a ready'
ready = fd:3

[worker b]
command = $W b ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local m=$(ev_mark)
	# a is never ready the second time: the restart waits on it.
	ns_kill KILL "$(wpid a)"
	wait_ev '^start a$' 2
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	ev_since "$m" | assert_seq "stop c" "stop b" "start a" "stop a"
	no_log '^arbor: gave up'
}

@test "shutdown: a worker that ignores its stop signal is killed after shutdown ms" {
	cat >"$INI" <<EOF
[worker a]
command = $W a

[worker w]
command = $W w ignore
shutdown = 600
EOF
	tree_start
	local p=$(wpid w) t0 t1
	t0=$(date +%s%N)
	kill -TERM "$(arbor_inner_pid)"
	wait_log "$LOG" "^arbor: killing w pid=$p reason=shutdown_timeout$"
	t1=$(date +%s%N)
	tree_wait
	[ "$status" -eq 0 ]
	[ $(((t1 - t0) / 1000000)) -ge 550 ]
	grep -Eq "^arbor: stopped w pid=$p signal=SIGKILL$" "$LOG"
	ev_since 2 | assert_seq "term w" "stop a"
}

@test "shutdown: workers default to 5000 ms, infinity waits for the worker" {
	cat >"$INI" <<EOF
[worker i]
command = $W i linger
shutdown = infinity

[worker d]
command = $W d ignore
EOF
	tree_start
	local t0 t1 i=$(wpid i)
	t0=$(date +%s%N)
	kill -TERM "$(arbor_inner_pid)"
	wait_log "$LOG" '^arbor: killing d pid=[0-9]+ reason=shutdown_timeout$'
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -ge 4900 ]
	wait_ev '^term i$'
	# Longer than the default: infinity is not 5000.
	t0=$(date +%s%N)
	while [ $(($(date +%s%N) - t0)) -lt 5500000000 ]; do
		no_log '^arbor: killing i '
		sleep 0.1
	done
	ns_alive "$i"
	touch "$D/i.go"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq "^arbor: stopped i pid=$i status=0$" "$LOG"
}

@test "stop: a worker stopped by SIGSTOP still gets its stop signal (with SIGCONT)" {
	cat >"$INI" <<EOF
[worker w]
command = $W w
shutdown = 20000
EOF
	tree_start
	local p=$(wpid w)
	ns_kill STOP "$p"
	wait_until grep -q '^State:.*T' "/proc/$(outer_pid "$p")/status"
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq "^arbor: stopped w pid=$p status=0$" "$LOG"
	no_log '^arbor: killing '
}

@test "shutdown = brutal_kill: SIGKILL at once, never the stop signal" {
	cat >"$INI" <<EOF
[worker a]
command = $W a

[worker w]
command = $W w
shutdown = brutal_kill
EOF
	tree_start
	local p=$(wpid w)
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq "^arbor: stopped w pid=$p signal=SIGKILL$" "$LOG"
	no_log '^arbor: killing '
	ev_since 2 | assert_seq "stop a"
}

@test "stop_signal: the worker gets its stop_signal, a killed one is not restarted" {
	cat >"$INI" <<EOF
[worker u]
command = $W u
stop_signal = USR1

[worker s]
command = $W s sleep
stop_signal = SIGINT
restart = transient
EOF
	tree_start
	local s=$(wpid s)
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	[ "$(cat "$D/u.sig")" = USR1 ]
	grep -Eq "^arbor: stopped s pid=$s signal=SIGINT$" "$LOG"
}

@test "shutdown of a nested supervisor: killed after its shutdown, its workers with it" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[supervisor n]
shutdown = 500

[worker n/w]
command = $W n/w ignore
shutdown = infinity
EOF
	tree_start
	local n=$(log_pid n)
	kill -TERM "$(arbor_inner_pid)"
	wait_log "$LOG" "^arbor: killing n pid=$n reason=shutdown_timeout$"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq "^arbor: stopped n pid=$n signal=SIGKILL$" "$LOG"
	assert_seq "start a" "ready a" "start n/w" "term n/w" "stop a" <"$EV"
}

# --- a nested supervisor killed ---

@test "SIGKILL to a nested supervisor: its workers die with it, the subtree restarts" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 30

[worker a]
command = $W a

[supervisor n]

[worker n/x]
command = /bin/sh -c 'sleep 1000 & echo \$! >$D/gc.pid; exec $W n/x'

[supervisor n/m]

[worker n/m/y]
command = $W n/m/y

[worker c]
command = $W c
EOF
	tree_start
	local a c n m x y gc
	a=$(wpid a) c=$(wpid c) n=$(log_pid n) m=$(log_pid n/m)
	x=$(wpid n/x) y=$(wpid n/m/y) gc=$(cat "$D/gc.pid")
	ns_alive "$gc"
	ns_kill KILL "$n"
	wait_log "$LOG" "^arbor: exited n pid=$n signal=SIGKILL$"
	wait_log "$LOG" '^arbor: restarting n restart=1/5 period=30000ms strategy=one_for_one$'
	wait_new_wpid n/m/y "$y"
	wait_log_n '^arbor: started n ' 2
	wait_ns_gone "$n" "$m" "$x" "$y" "$gc"
	[ "$(wpid n/x)" != "$x" ]
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	# The old n/x, n/m/y and their leftovers are gone: one of each runs.
	[ "$(ns_count "$W n/x \$")" -eq 1 ]
	[ "$(ns_count "$W n/m/y \$")" -eq 1 ]
	[ "$(ns_count '^sleep 1000 $')" -eq 1 ]
	tree_stop
}

@test "SIGKILL to a supervisor nested two deep: its parent supervisor restarts it" {
	cat >"$INI" <<EOF
[worker a]
command = $W a

[supervisor n]
intensity = 5
period = 30

[worker n/x]
command = $W n/x

[supervisor n/m]

[worker n/m/y]
command = $W n/m/y

[worker n/z]
command = $W n/z
EOF
	tree_start
	local a n m x y z
	a=$(wpid a) n=$(log_pid n) m=$(log_pid n/m) x=$(wpid n/x) y=$(wpid n/m/y) z=$(wpid n/z)
	ns_kill KILL "$m"
	wait_log "$LOG" "^arbor: exited n/m pid=$m signal=SIGKILL$"
	wait_log "$LOG" '^arbor: restarting n/m restart=1/5 period=30000ms strategy=one_for_one$'
	wait_new_wpid n/m/y "$y"
	wait_log_n '^arbor: started n/m ' 2
	wait_ns_gone "$m" "$y"
	[ "$(wpid a)" = "$a" ] && [ "$(wpid n/x)" = "$x" ] && [ "$(wpid n/z)" = "$z" ]
	ns_alive "$n" && ns_alive "$x" && ns_alive "$z"
	no_log '^arbor: (exited|restarting) n '
	[ "$(ns_count "$W n/m/y \$")" -eq 1 ]
	tree_stop
}

@test "SIGKILL to a nested supervisor during its parent's stop leaves nothing behind" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[supervisor n]

[worker n/w]
command = $W n/w linger
shutdown = infinity
EOF
	tree_start
	local n=$(log_pid n) w=$(wpid n/w)
	kill -TERM "$(arbor_inner_pid)"
	wait_ev '^term n/w$'
	ns_kill KILL "$n"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq "^arbor: stopped n pid=$n signal=SIGKILL$" "$LOG"
	no_log '^arbor: restarting '
	assert_seq "start a" "ready a" "start n/w" "term n/w" "stop a" <"$EV"
}

@test "SIGKILL to arbor itself (not PID 1): every process of the tree dies with it" {
	cat >"$INI" <<EOF
[worker a]
command = $W a

[supervisor n]

[worker n/x]
command = $W n/x
EOF
	export ARBOR_SOCKET=$D/arbor.sock
	"$ARBOR" -c "$INI" 2>"$LOG" </dev/null &
	local arbor=$! a x n
	ARBOR_PID=$arbor	# for the teardown, should the test fail
	wait_log "$LOG" '^arbor: ready / '
	a=$(wpid a) x=$(wpid n/x) n=$(pgrep -P "$arbor" -f -- "^arbor: supervisor n$")
	[ -n "$n" ]
	kill -0 "$a" && kill -0 "$x"
	kill -KILL "$arbor"
	wait "$arbor" || true
	wait_gone "$a"
	wait_gone "$n"
	wait_gone "$x"
}

# --- auto_shutdown ---

@test "auto_shutdown = any_significant: a significant child's clean exit stops the tree" {
	cat >"$INI" <<EOF
[supervisor]
auto_shutdown = any_significant

[worker a]
command = $W a ready
ready = fd:3

[worker s]
command = $W s waitfile
restart = transient
significant = yes

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local m=$(ev_mark)
	touch "$D/s.go"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq '^arbor: auto_shutdown / reason=any_significant child=s$' "$LOG"
	ev_since "$m" | assert_seq "stop c" "stop a"
	no_log '^arbor: restarting '
}

@test "auto_shutdown: a significant transient child that crashes is restarted instead" {
	cat >"$INI" <<EOF
[supervisor]
auto_shutdown = any_significant
intensity = 5
period = 30

[worker a]
command = $W a

[worker s]
command = $W s
restart = transient
significant = yes
EOF
	tree_start
	local s=$(wpid s)
	ns_kill KILL "$s"
	wait_new_wpid s "$s"
	grep -Eq '^arbor: restarting s restart=1/5 ' "$LOG"
	no_log '^arbor: auto_shutdown '
	tree_stop
}

@test "auto_shutdown: arbor exits with the status of the significant child that ended it" {
	cat >"$INI" <<EOF
[supervisor]
auto_shutdown = any_significant

[worker a]
command = $W a

[worker s]
command = /bin/sh -c 'while [ ! -e $D/s.go ]; do sleep 0.05; done; exit 3'
restart = temporary
significant = yes
EOF
	tree_start
	touch "$D/s.go"
	tree_wait
	[ "$status" -eq 3 ]
	grep -Eq '^arbor: auto_shutdown / reason=any_significant child=s$' "$LOG"
}

@test "auto_shutdown = all_significant: the tree stops when the last significant child ends" {
	cat >"$INI" <<EOF
[supervisor]
auto_shutdown = all_significant

[worker s1]
command = $W s1 waitfile
restart = temporary
significant = yes

[worker a]
command = $W a

[worker s2]
command = $W s2 waitfile
restart = transient
significant = yes
EOF
	tree_start
	local a=$(wpid a)
	touch "$D/s1.go"
	wait_log "$LOG" '^arbor: exited s1 pid=[0-9]+ status=0$'
	no_log '^arbor: auto_shutdown '
	ns_alive "$a"
	kill -0 "$ARBOR_PID"
	touch "$D/s2.go"
	tree_wait
	[ "$status" -eq 0 ]
	grep -Eq '^arbor: auto_shutdown / reason=all_significant child=s2$' "$LOG"
	grep -Eq "^arbor: stopped a pid=$a " "$LOG"
}

@test "auto_shutdown = all_significant in a nested supervisor: the root (never) goes on" {
	cat >"$INI" <<EOF
[supervisor n]
auto_shutdown = all_significant
restart = transient

[worker n/s]
command = $W n/s waitfile
restart = temporary
significant = yes

[worker a]
command = $W a
EOF
	tree_start
	touch "$D/n_s.go"
	wait_log "$LOG" '^arbor: auto_shutdown n reason=all_significant child=n/s$'
	wait_log "$LOG" '^arbor: exited n pid=[0-9]+ status=0$'
	# The root's auto_shutdown is never: n's clean end does not stop it.
	kill -0 "$ARBOR_PID"
	ns_alive "$(wpid a)"
	no_log '^arbor: auto_shutdown / '
	tree_stop
}

@test "auto_shutdown in a nested supervisor: it stops cleanly, the root goes on" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[supervisor app]
restart = transient
auto_shutdown = any_significant

[worker app/main]
command = $W app/main waitfile
restart = transient
significant = yes

[worker app/side]
command = $W app/side ready
ready = fd:3

[worker c]
command = $W c ready
ready = fd:3
EOF
	tree_start
	local a c app m
	a=$(wpid a) c=$(wpid c) app=$(log_pid app)
	m=$(ev_mark)
	touch "$D/app_main.go"
	wait_log "$LOG" "^arbor: exited app pid=$app status=0$"
	wait_ns_gone "$app"
	grep -Eq '^arbor: auto_shutdown app reason=any_significant child=app/main$' "$LOG"
	ev_since "$m" | assert_seq "stop app/side"
	no_log '^arbor: restarting '
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	ns_alive "$a" && ns_alive "$c"
	tree_stop
}

# --- -c FILE -- CMD ---

@test "-c FILE -- CMD: CMD starts last, arbor exits with its status after stopping the tree" {
	cat >"$INI" <<EOF
[worker a]
command = $W a ready
ready = fd:3

[worker b]
command = $W b ready
ready = fd:3
EOF
	arbor_bg -c "$INI" -- /bin/sh -c "echo start cmd >>$EV; while [ ! -e $D/go ]; do sleep 0.05; done; exit 7"
	wait_ev '^start cmd$'
	assert_seq "start a" "ready a" "start b" "ready b" "start cmd" <"$EV"
	touch "$D/go"
	tree_wait
	[ "$status" -eq 7 ]
	ev_since 5 | assert_seq "stop b" "stop a"
	grep -Eq '^arbor: exited cmd pid=[0-9]+ status=7$' "$LOG"
	no_log '^arbor: restarting '
}

@test "-c FILE -- CMD: CMD killed by a signal gives 128+N, TERM to arbor reaches CMD" {
	cat >"$INI" <<EOF
[worker a]
command = $W a
EOF
	arbor_bg -c "$INI" -- "$W" cmd sleep
	wait_wpid cmd
	ns_kill KILL "$(wpid cmd)"
	tree_wait
	[ "$status" -eq 137 ]
	grep -Eq '^arbor: stopped a ' "$LOG"

	rm -f "$D/cmd.pid"
	: >"$EV"
	arbor_bg -c "$INI" -- "$W" cmd
	wait_wpid cmd
	wait_ev '^start a$'
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	[ "$(cat "$D/cmd.sig")" = TERM ]
	ev_since 2 | assert_seq "stop cmd" "stop a"
}

@test "-c FILE -- CMD: the root giving up still exits 1" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 0

[worker w]
command = $W w sleep
EOF
	arbor_bg -c "$INI" -- "$W" cmd
	wait_wpid cmd
	ns_kill KILL "$(wpid w)"
	tree_wait
	grep -Eq '^arbor: gave up / reason=reached_max_restart_intensity' "$LOG"
	[ "$status" -eq 1 ] || { echo "arbor exited $status" >&2; cat "$LOG" >&2; false; }
}

@test "-c FILE -- CMD: arbor never runs on without CMD (one_for_all at the root)" {
	cat >"$INI" <<EOF
[supervisor]
strategy = one_for_all
intensity = 5
period = 30

[worker w]
command = $W w sleep
EOF
	arbor_bg -c "$INI" -- "$W" cmd
	wait_wpid cmd
	wait_log "$LOG" '^arbor: ready / '
	local cmd=$(wpid cmd)
	ns_kill KILL "$(wpid w)"
	wait_log "$LOG" '^arbor: restarting w '
	# Either CMD is left alone, or its end ends arbor (as CMD's does).
	wait_until bash -c "! kill -0 $ARBOR_PID || grep -q '^arbor: started w .*' <(sed -n '/restarting w/,\$p' '$LOG')"
	if kill -0 "$ARBOR_PID" 2>/dev/null; then
		ns_alive "$cmd" || { echo "CMD is gone and arbor runs on:" >&2; cat "$LOG" >&2; false; }
	fi
}

# --- pools ---

@test "pool: instances = 3 runs pool/1..pool/3 in order, one_for_one among them" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 30

[worker a]
command = $W a

[worker pool]
command = /bin/sh -c 'echo \$\$ >>$D/pool.pids; exec sleep 1000'
instances = 3

[worker c]
command = $W c
EOF
	tree_start
	grep -E '^arbor: started (a|pool|pool/[0-9]+|c) ' "$LOG" | sed -E 's/ pid=.*//' |
		assert_seq "arbor: started a" "arbor: started pool/1" "arbor: started pool/2" \
			"arbor: started pool/3" "arbor: started pool" "arbor: started c"
	local p1 p2 p3 a c
	p1=$(log_pid pool/1) p2=$(log_pid pool/2) p3=$(log_pid pool/3) a=$(wpid a) c=$(wpid c)
	[ "$(wc -l <"$D/pool.pids")" -eq 3 ]
	ns_kill KILL "$p2"
	wait_log "$LOG" "^arbor: exited pool/2 pid=$p2 signal=SIGKILL$"
	wait_log "$LOG" '^arbor: restarting pool/2 restart=1/'
	wait_log_n '^arbor: started pool/2 ' 2
	[ "$(log_pid pool/1)" = "$p1" ] && [ "$(log_pid pool/3)" = "$p3" ]
	ns_alive "$p1" && ns_alive "$p3" && ns_alive "$(log_pid pool/2)"
	[ "$(wpid a)" = "$a" ] && [ "$(wpid c)" = "$c" ]
	[ "$(ns_count '^sleep 1000 $')" -eq 3 ]
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ]
	grep -E '^arbor: stopped pool/' "$LOG" | sed -E 's/ pid=.*//' |
		assert_seq "arbor: stopped pool/3" "arbor: stopped pool/2" "arbor: stopped pool/1"
}

@test "pool: its own intensity; when it gives up its parent restarts it" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 30

[worker a]
command = $W a

[worker pool]
command = /bin/sleep 1000
instances = 2
intensity = 0
period = 30
EOF
	tree_start
	local p1 p2 a=$(wpid a)
	p1=$(log_pid pool/1) p2=$(log_pid pool/2)
	ns_kill KILL "$p1"
	wait_log "$LOG" '^arbor: gave up pool reason=reached_max_restart_intensity'
	wait_log "$LOG" '^arbor: restarting pool restart=1/5 '
	wait_log_n '^arbor: started pool/2 ' 2
	wait_ns_gone "$p2"
	[ "$(log_pid pool/1)" != "$p1" ] && [ "$(log_pid pool/2)" != "$p2" ]
	[ "$(wpid a)" = "$a" ]
	tree_stop
}

# --- include ---

@test "include: files read in sorted order after the including one, relative paths theirs" {
	mkdir -p "$D/conf.d/bin"
	cp "$W" "$D/conf.d/bin/w"
	cat >"$INI" <<EOF
[arbor]
include = conf.d/*.ini

[worker a]
command = $W a ready
ready = fd:3
EOF
	cat >"$D/conf.d/20-c.ini" <<EOF
[worker c]
command = bin/w c ready
ready = fd:3
EOF
	cat >"$D/conf.d/10-b.ini" <<EOF
[supervisor n]

[worker n/b]
command = bin/w n/b ready
ready = fd:3
EOF
	tree_start
	assert_seq "start a" "ready a" "start n/b" "ready n/b" "start c" "ready c" <"$EV"
	tree_stop
}

# --- the log ---

@test "log: exits name the status or the signal" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
period = 30

[worker w]
command = $W w sleep

[worker e]
command = /bin/sh -c '[ -e $D/e.once ] && exec sleep 1000; touch $D/e.once; exit 42'
EOF
	tree_start
	local p=$(wpid w)
	ns_kill SEGV "$p"
	wait_log "$LOG" "^arbor: exited w pid=$p signal=SIGSEGV( core=yes)?$"
	wait_log "$LOG" '^arbor: exited e pid=[0-9]+ status=42$'
	tree_stop
}

@test "log_format = json: one JSON object per line, with event, path and pid" {
	cat >"$INI" <<EOF
[arbor]
log_format = json

[supervisor]
intensity = 0

[worker a]
command = $W a

[worker w]
command = $W w sleep
EOF
	arbor_bg -c "$INI"
	wait_wpid w
	wait_until grep -q '"event":"ready"' "$LOG"
	local w=$(wpid w) a=$(wpid a)
	ns_kill KILL "$w"
	tree_wait
	[ "$status" -eq 1 ]
	# Every line is one JSON object, and no key appears twice in one.
	python3 - "$LOG" <<'EOF'
import json, sys
def no_dup(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate keys {sorted(dup)}")
    return dict(pairs)
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        o = json.loads(line, object_pairs_hook=no_dup)
    except ValueError as e:
        sys.exit(f"line {n}: {e}: {line}")
    if not isinstance(o, dict) or "event" not in o:
        sys.exit(f"line {n}: not an event object: {line}")
EOF
	jq -s -e --argjson w "$w" 'any(.[]; .event == "started" and .path == "w" and .pid == $w)' "$LOG"
	jq -s -e --argjson w "$w" 'any(.[]; .event == "exited" and .path == "w" and
		.pid == $w and .signal == "SIGKILL")' "$LOG"
	jq -s -e 'any(.[]; .event == "gave up" and .path == "" and
		.reason == "reached_max_restart_intensity")' "$LOG"
	jq -s -e --argjson a "$a" 'any(.[]; .event == "stopped" and .path == "a" and .pid == $a)' "$LOG"
	[ "$(grep -vc '^{' "$LOG")" -eq 0 ]
}
