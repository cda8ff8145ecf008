#!/usr/bin/env bats
# Service life beyond OTP: the watchdog (watchdog, watchdog_signal,
# WATCHDOG_USEC/WATCHDOG_PID, WATCHDOG=1 and WATCHDOG=trigger), with real
# processes in a tree that runs as PID 1 of its own namespace, and libarbor
# workers that feed it from their loop.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# feeder: a worker that records its watchdog variables, then sends
# WATCHDOG=1 every 0.1 s until $D/hang exists, and hangs.
feeder() {
	cat >"$D/feeder" <<EOF
#!/usr/bin/env python3
import os, socket, time
env = "%s %s %d\\n" % (os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID"), os.getpid())
with open("$D/env.tmp", "w") as f:
    f.write(env)
os.rename("$D/env.tmp", "$D/env")
path = os.environ["NOTIFY_SOCKET"]
if path.startswith("@"):
    path = "\\0" + path[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
while not os.path.exists("$D/hang"):
    s.sendto(b"WATCHDOG=1", path)
    time.sleep(0.1)
os.execvp("sleep", ["sleep", "1000"])
EOF
	chmod +x "$D/feeder"
}

@test "watchdog: a worker that feeds it stays up; once it stops, SIGABRT and a restart" {
	feeder
	cat >"$INI" <<EOF
[supervisor]
intensity = 3
period = 60

[worker dog]
command = $D/feeder
watchdog = 2s
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	wait_file "$D/env"
	# systemd's names: the period in microseconds, the pid that must feed it
	read -r usec wpid mypid <"$D/env"
	assert_equal "$usec" 2000000
	assert_equal "$wpid" "$mypid"
	# ready = exec: NOTIFY_SOCKET comes with the watchdog all the same
	wait_until node_is dog '.uptime >= 5'	# two periods and a half, fed
	no_log '^arbor: watchdog '
	node_is dog '.state == "running" and .restarts == 0'
	touch "$D/hang"
	wait_log "$LOG" '^arbor: watchdog dog pid=[0-9]+ reason=timeout signal=SIGABRT$'
	wait_log "$LOG" '^arbor: exited dog pid=[0-9]+ signal=SIGABRT'
	wait_log "$LOG" '^arbor: restarting dog restart=1/3 '
	wait_until node_is dog '.state == "running" and .restarts == 1'
	tree_stop
}

@test "watchdog: WATCHDOG=trigger fails it at once, with watchdog_signal" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 100
period = 60

[worker t]
command = sh -c 'while [ ! -e $D/go ]; do sleep 0.05; done; rm $D/go; python3 $FIXTURES/sdnotify.py WATCHDOG=trigger; exec sleep 1000'
watchdog = 1h
watchdog_signal = USR1
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	touch "$D/go"
	wait_log "$LOG" '^arbor: watchdog t pid=[0-9]+ reason=trigger signal=SIGUSR1$'
	wait_log "$LOG" '^arbor: exited t pid=[0-9]+ signal=SIGUSR1'
	wait_log "$LOG" '^arbor: restarting t restart=1/100 '
	wait_until node_is t '.state == "running" and .restarts == 1'
	tree_stop
}

@test "watchdog: a worker that ignores watchdog_signal is killed after shutdown" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 100
period = 60

[worker deaf]
command = sh -c 'trap "" ABRT; while :; do sleep 0.1; done'
watchdog = 300ms
shutdown = 300ms
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: watchdog deaf pid=[0-9]+ reason=timeout signal=SIGABRT$'
	wait_log "$LOG" '^arbor: killing deaf pid=[0-9]+ reason=shutdown_timeout'
	wait_log "$LOG" '^arbor: exited deaf pid=[0-9]+ signal=SIGKILL'
	wait_log "$LOG" '^arbor: restarting deaf '
	tree_stop
}

@test "watchdog: a libarbor worker feeds it from its loop; a handler stuck in a loop gets it restarted" {
	cat >"$INI" <<EOF
[supervisor]
intensity = 3
period = 60

[worker p]
command = $FIXBIN/protoworker
genserver = yes
watchdog = 1s
EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready / '
	# idle, and busy with calls: fed all the same, for three periods
	wait_until node_is p '.uptime >= 3'
	run ctl call p 'echo hi'
	assert_output hi
	no_log '^arbor: watchdog '
	# the variables are the worker's own: a program it runs does not feed it
	run ctl call p 'run test -z "$WATCHDOG_USEC$WATCHDOG_PID"'
	assert_output 0
	run ctl call p spin --timeout 200
	assert_failure
	wait_log "$LOG" '^arbor: watchdog p pid=[0-9]+ reason=timeout signal=SIGABRT$'
	wait_log "$LOG" '^arbor: exited p pid=[0-9]+ signal=SIGABRT'
	wait_until node_is p '.state == "running" and .restarts == 1'
	run ctl call p 'echo back'
	assert_output back
	tree_stop
}

@test "watchdog: none set, none asked for: no WATCHDOG_USEC, no NOTIFY_SOCKET" {
	cat >"$INI" <<EOF
[worker plain]
command = sh -c 'echo "[\$WATCHDOG_USEC][\$WATCHDOG_PID][\$NOTIFY_SOCKET]" >$D/env; exec sleep 1000'
EOF
	arbor_bg -c "$INI"
	wait_file "$D/env"
	assert_equal "$(cat "$D/env")" "[][][]"
	tree_stop
}

@test "watchdog: arbor check refuses bad values, naming the line" {
	bad_check "3: [worker w]: watchdog = -1s: negative: expected 0 or seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)" <<EOF
[worker w]
command = /bin/true
watchdog = -1s
EOF
	bad_check "3: [worker w]: watchdog = 5m: 'm' is ambiguous (write ms or min): expected 0 or seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)" <<EOF
[worker w]
command = /bin/true
watchdog = 5m
EOF
	bad_check "3: [worker w]: watchdog_signal = NOPE: expected a signal name or number (ABRT, SIGKILL, 6)" <<EOF
[worker w]
command = /bin/true
watchdog_signal = NOPE
EOF
	bad_check "2: [supervisor]: watchdog: not a key of this section (it belongs in [worker PATH])" <<EOF
[supervisor]
watchdog = 1s
EOF
	cat >"$INI" <<EOF
[worker w]
command = /bin/true
watchdog = 2.5
watchdog_signal = KILL
EOF
	run "$ARBOR" check -c "$INI"
	assert_success
	assert_output --partial 'watchdog=2500 watchdog_signal=SIGKILL'
}
