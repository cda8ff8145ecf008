#!/usr/bin/env bats
# Service life beyond OTP, part one: restart backoff (restart_delay,
# restart_delay_max) and one-shot jobs (ready = exit), with real processes
# in a tree that runs as PID 1 of its own namespace.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# --- backoff ---

@test "backoff: a service that comes up late is waited for, not given up on" {
	# Without the backoff, five quick failures pass intensity = 4 in about
	# a second and the root gives up long before the dependency is there.
	cat >"$INI" <<EOF
[supervisor]
intensity = 4
period = 60

[worker late]
command = sh -c 'sleep 0.2; test -e $D/up && exec sleep 1000; exit 1'
restart_delay = 400ms
restart_delay_max = 2s
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	wait_log "$LOG" '^arbor: backoff late delay=400ms n=1$'
	wait_log "$LOG" '^arbor: backoff late delay=800ms n=2$'
	wait_log "$LOG" '^arbor: backoff late delay=1600ms n=3$'
	touch "$D/up"	# the dependency comes up, about 2 s late
	wait_log "$LOG" '^arbor: restarting late restart=3/4 '
	wait_until node_is late '.state == "running" and .restarts == 3'
	no_log '^arbor: gave up'
	no_log 'restart=4/4'
	tree_stop
}

@test "backoff: restarting with restart_in_ms while it waits; arborctl start skips the wait" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 3
period = 60

[worker w]
command = sh -c 'echo run >>$D/runs; sleep 0.2; exit 1'
restart_delay = 60s
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: backoff w delay=60000ms n=1$'
	run node_json w
	echo "$output"
	assert_equal "$(jq -r .state <<<"$output")" restarting
	assert_equal "$(jq -r .pid <<<"$output")" null
	jq -e '.restart_in_ms > 0 and .restart_in_ms <= 60000' <<<"$output"
	# counted when it happens, not when it is scheduled
	no_log '^arbor: restarting w '
	run ctl ping
	assert_failure
	run ctl start w
	assert_success
	wait_count "$D/runs" run 2	# at once, not 60 s later
	wait_log "$LOG" '^arbor: backoff w delay=60000ms n=2$'
	node_is w 'has("restart_in_ms")'
	tree_stop
}

@test "backoff: the count starts at 1 again after the child stayed up for period" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 100
period = 2

[worker w]
command = sh -c 'test -e $D/stay && sleep 2.5; sleep 0.1; exit 1'
restart_delay = 300ms
restart_delay_max = 10s
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: backoff w delay=300ms n=1$'
	wait_log "$LOG" '^arbor: backoff w delay=600ms n=2$'
	wait_log "$LOG" '^arbor: backoff w delay=1200ms n=3$'
	touch "$D/stay"	# the next run stays up 2.6 s, longer than period
	wait_log_n '^arbor: backoff w delay=300ms n=1$' 2
	no_log 'delay=2400ms'
	tree_stop
}

@test "backoff: a supervisor's restart_delay is its children's default; arbor check shows it" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 5
restart_delay = 250ms

[worker w]
command = sh -c 'sleep 0.2; exit 1'
EOF
	run "$ARBOR" check -c "$INI"
	assert_success
	assert_line --partial 'root: supervisor strategy=one_for_one intensity=5 period=5 restart_delay=250'
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: backoff w delay=250ms n=1$'
	# restart_delay_max defaults to restart_delay: a fixed delay
	wait_log "$LOG" '^arbor: backoff w delay=250ms n=2$'
	tree_stop
}

@test "backoff: restart_delay 0 restarts at once, with no backoff" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 2
period = 60

[worker w]
command = sh -c 'sleep 0.2; exit 1'
restart_delay = 0
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: restarting w restart=1/2 '
	no_log '^arbor: backoff '
	tree_stop
}

@test "backoff: arbor check refuses bad units, negative values and a max below the delay" {
	bad_check "3: [worker w]: restart_delay = 5m: 'm' is ambiguous (write ms or min): expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h)" <<EOF
[worker w]
command = /bin/true
restart_delay = 5m
EOF
	bad_check "2: [supervisor]: restart_delay_max = -1s: negative: expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h)" <<EOF
[supervisor]
restart_delay_max = -1s
EOF
	bad_check "4: [worker w]: restart_delay_max = 1000 ms: less than restart_delay = 2000 ms" <<EOF
[worker w]
command = /bin/true
restart_delay = 2s
restart_delay_max = 1s
EOF
}

# --- one-shot jobs ---

@test "one-shot: a migration runs to its end before the app starts" {
	cat >"$INI" <<EOF
[worker migrate]
command = sh -c 'echo migrate >>$D/runs; sleep 0.5; touch $D/migrated'
ready = exit

[worker app]
command = sh -c 'test -e $D/migrated && echo ok >$D/app_saw || echo early >$D/app_saw; exec sleep 1000'
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	wait_file "$D/app_saw"
	assert_equal "$(cat "$D/app_saw")" ok
	node_is migrate '.state == "stopped" and .exit_status == 0 and .pid == null and .restart == "temporary"'
	node_is app '.state == "running"'
	ctl ping
	# its own exit restarts nothing; arborctl start runs it again
	no_log '^arbor: restarting migrate'
	run ctl start migrate
	assert_success
	assert_equal "$(grep -c migrate "$D/runs")" 2
	tree_stop
}

@test "one-shot: runs again when a rest_for_one restart from an earlier sibling starts its group" {
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
intensity = 3

[worker db]
command = $W db

[worker migrate]
command = sh -c 'echo migrate >>$EV'
ready = exit

[worker app]
command = $W app
EOF
	tree_start
	local db=$(wpid db) app=$(wpid app)
	ns_kill KILL "$db"
	wait_new_wpid app "$app"
	wait_ev '^start app$' 2
	wait_ev '^migrate$' 2
	grep -E '^arbor: (started|exited migrate) ' "$LOG" | cut -d' ' -f2,3 |
		assert_seq 'started db' 'exited migrate' 'started app' 'started db' 'exited migrate' 'started app'
	node_is migrate '.state == "stopped" and .exit_status == 0'
	tree_stop
}

@test "one-shot: a failing migration fails the boot (exit 1), the app never starts" {
	cat >"$INI" <<EOF
[worker migrate]
command = sh -c 'echo migrate >>$EV; exit 2'
ready = exit

[worker app]
command = $W app
EOF
	arbor_bg -c "$INI"
	tree_wait
	assert_equal "$status" 1
	grep -q '^arbor: start failed migrate ' "$LOG"
	run grep -c '^start app$' "$EV"
	assert_output 0
}

@test "one-shot: a job killed by a signal or past start_timeout fails its start" {
	cat >"$INI" <<EOF
[worker job]
command = sleep 1000
ready = exit
start_timeout = 300ms
EOF
	arbor_bg -c "$INI"
	tree_wait
	assert_equal "$status" 1
	grep -q '^arbor: start failed job reason="not ready within start_timeout = 300 ms"' "$LOG"
}

@test "one-shot: arbor check refuses ready = exit on a permanent child, naming the line" {
	bad_check "3: [worker job]: restart = permanent: a one-shot job (ready = exit at line 4) is never restarted for its own exit (use transient or temporary)" <<EOF
[worker job]
command = /bin/true
restart = permanent
ready = exit
EOF
	cat >"$INI" <<EOF
[worker job]
command = /bin/true
ready = exit
restart = transient
EOF
	run "$ARBOR" check -c "$INI"
	assert_success
	assert_line --partial 'job: worker restart=transient ready=exit'
}

@test "nested: a waiting grandchild shows restart_in_ms, a done job exit_status, in the root's status" {
	cat >"$INI" <<EOF2
[supervisor sub]
restart_delay = 60s

[worker sub/job]
command = sh -c 'exit 0'
ready = exit

[worker sub/w]
command = sh -c 'sleep 0.2; exit 1'
EOF2
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	wait_until node_is sub/w '.state == "restarting" and .restart_in_ms > 0 and .restart_in_ms <= 60000'
	node_is sub/job '.state == "stopped" and .exit_status == 0'
	node_is sub '.state == "running"'
	run ctl start sub/w
	assert_success
	wait_log "$LOG" '^arbor: backoff sub/w delay=60000ms n=2$'	# ran again at once
	tree_stop
}
