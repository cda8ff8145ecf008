#!/usr/bin/env bats
# Service life beyond OTP: health checks (health_command, health_interval,
# health_timeout, health_retries, health_start_period), "health" and
# "health_failures" in status --json, and `arborctl ping [PATH]`, with real
# processes in a tree that runs as PID 1 of its own namespace.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# zombies: how many processes of the namespace are zombies.
zombies() {
	local inner ns p n=0
	inner=$(arbor_inner_pid)
	ns=$(readlink "/proc/$inner/ns/pid")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		grep -q '^State:.*Z' "$p/status" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

@test "health: a check that starts failing: failing, then killed and restarted" {
	touch "$D/ok"
	cat >"$INI" <<EOF
[supervisor]
intensity = 3
period = 60

[worker web]
command = sleep 2000
health_command = test -e $D/ok
health_interval = 200ms
health_retries = 3

[worker plain]
command = sleep 2000
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	node_is plain '.health == null and .health_failures == 0'
	node_is web '.health != null'
	wait_log "$LOG" '^arbor: health web state=ok pid=[0-9]+$'
	node_is web '.health == "ok" and .health_failures == 0'
	pid=$(log_pid web)
	rm "$D/ok"
	wait_log "$LOG" "^arbor: health web state=failing failures=1 pid=$pid\$"
	wait_log "$LOG" "^arbor: health web state=failing failures=3 pid=$pid signal=SIGABRT\$"
	wait_log "$LOG" "^arbor: exited web pid=$pid signal=SIGABRT"
	wait_log "$LOG" '^arbor: restarting web restart=1/3 '
	touch "$D/ok"
	wait_until node_is web '.state == "running" and .restarts == 1 and .health == "ok"'
	# the checks' processes were reaped, none taken for the worker
	assert_equal "$(zombies)" 0
	assert_equal "$(count_log "$LOG" '^arbor: exited web ')" 1
	tree_stop
}

@test "health: failing in JSON and in ping PATH while it fails, ok again after" {
	touch "$D/ok"
	cat >"$INI" <<EOF
[supervisor app]

[worker app/web]
command = sleep 2000
health_command = sh -c 'test -e $D/ok'
health_interval = 100ms
health_retries = 100000

[worker other]
command = sleep 2000
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: health app/web state=ok '
	run ctl ping app/web
	assert_success
	assert_output pong
	rm "$D/ok"
	# the worker runs under a nested supervisor: its health comes up to the root
	wait_until node_is app/web '.health == "failing" and .health_failures >= 2'
	run ctl ping app/web
	assert_failure 1
	assert_output "arborctl: not healthy: app/web is failing its health check"
	run ctl ping app
	assert_failure 1
	run ctl ping
	assert_failure 1
	assert_output "arborctl: not healthy: app/web is failing its health check"
	run ctl ping other	# another subtree is not judged
	assert_success
	touch "$D/ok"
	wait_log "$LOG" '^arbor: health app/web state=ok '
	wait_until node_is app/web '.health == "ok" and .health_failures == 0'
	run ctl ping app/web
	assert_success
	run ctl ping
	assert_success
	node_is app/web '.restarts == 0'
	tree_stop
}

@test "health: a check that hangs past health_timeout is killed and counts as a failure" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 100
period = 60

[worker slow]
command = sleep 2000
health_command = sleep 1001
health_interval = 100ms
health_timeout = 300ms
health_retries = 2
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	pid=$(log_pid slow)
	wait_log "$LOG" "^arbor: health slow state=failing failures=1 pid=$pid\$"
	# killed at its timeout: never more than one check at a time
	[ "$(ns_count '^sleep 1001')" -le 1 ]
	wait_log "$LOG" "^arbor: health slow state=failing failures=2 pid=$pid signal=SIGABRT\$"
	wait_log "$LOG" "^arbor: exited slow pid=$pid signal=SIGABRT"
	wait_log "$LOG" '^arbor: restarting slow '
	tree_stop
}

@test "health: health_start_period: failures before the first success are not counted" {
	cat >"$INI" <<EOF
[worker w]
command = sleep 2000
health_command = sh -c 'echo check >>$D/checks; test -e $D/ok'
health_interval = 100ms
health_retries = 1
health_start_period = 1h
EOF
	arbor_bg -c "$INI"
	wait_count "$D/checks" . 5
	node_is w '.health == "starting" and .health_failures == 0 and .restarts == 0'
	run ctl ping w
	assert_success
	touch "$D/ok"
	wait_until node_is w '.health == "ok"'
	# after a success, the next failure counts (retries = 1: the kill)
	rm "$D/ok"
	wait_log "$LOG" '^arbor: health w state=failing failures=1 pid=[0-9]+ signal=SIGABRT$'
	wait_log "$LOG" '^arbor: restarting w '
	tree_stop
}

@test "health: the check runs as the worker, with its env and cwd" {
	mkdir "$D/here"
	cat >"$INI" <<EOF
[worker w]
command = sleep 2000
cwd = $D/here
env = MARK=seen
health_command = sh -c 'echo "\$MARK \$(pwd) \$ARBOR_PATH" >$D/ran'
health_interval = 100ms
EOF
	arbor_bg -c "$INI"
	wait_file "$D/ran"
	assert_equal "$(cat "$D/ran")" "seen $D/here w"
	tree_stop
}

@test "health: the check's output goes into the worker's file: output" {
	cat >"$INI" <<EOF
[worker w]
command = sh -c 'echo from-worker; exec sleep 2000'
stdout = file:$D/out.log
health_command = sh -c 'echo from-check'
health_interval = 100ms
EOF
	arbor_bg -c "$INI"
	wait_until grep -q from-check "$D/out.log"
	assert grep -q from-worker "$D/out.log"
	tree_stop
}

@test "ping PATH: a missing PATH is a clear error; a stopped child fails it" {
	cat >"$INI" <<EOF
[worker a]
command = sleep 2000

[worker b]
command = sleep 2000
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	run ctl ping nope
	assert_failure 1
	assert_output "arborctl: no such child: nope"
	run ctl ping a
	assert_success
	run ctl ping a b
	assert_failure 64
	run ctl stop b
	assert_success
	run ctl ping b
	assert_failure 1
	assert_output "arborctl: not healthy: b is stopped"
	run ctl ping a
	assert_success
	run ctl ping /
	assert_success
	tree_stop
}

@test "health: arbor check refuses bad values, naming the line" {
	bad_check "3: [worker w]: health_command = /nonexistent/check --x: /nonexistent/check: No such file or directory" <<EOF
[worker w]
command = /bin/true
health_command = /nonexistent/check --x
EOF
	bad_check "4: [worker w]: health_interval = 0: expected seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)" <<EOF
[worker w]
command = /bin/true
health_command = /bin/true
health_interval = 0
EOF
	bad_check "4: [worker w]: health_timeout = -1s: negative: expected seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)" <<EOF
[worker w]
command = /bin/true
health_command = /bin/true
health_timeout = -1s
EOF
	bad_check "4: [worker w]: health_retries = 0: expected an integer >= 1" <<EOF
[worker w]
command = /bin/true
health_command = /bin/true
health_retries = 0
EOF
	bad_check "4: [worker w]: health_start_period = 3x: unknown unit: expected 0 or seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)" <<EOF
[worker w]
command = /bin/true
health_command = /bin/true
health_start_period = 3x
EOF
	bad_check "4: [worker w]: health_interval = 600h: longer than 24 days" <<EOF
[worker w]
command = /bin/true
health_command = /bin/true
health_interval = 600h
EOF
	bad_check "3: [worker w]: health_interval: needs health_command (the check to run)" <<EOF
[worker w]
command = /bin/true
health_interval = 5s
EOF
	cat >"$INI" <<EOF
[worker w]
command = /bin/true
health_command = /bin/test -e /tmp
health_interval = 30
health_timeout = 500ms
health_retries = 5
health_start_period = 1min
EOF
	run "$ARBOR" check -c "$INI"
	assert_success
	assert_output --partial "health_command='/bin/test -e /tmp' health_interval=30000 health_timeout=500 health_start_period=60000 health_retries=5"
}
