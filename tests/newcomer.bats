#!/usr/bin/env bats
# What a newcomer and a container user meet first: workers run as another
# user writing to /dev/stdout, the default configuration path, the process
# title of nested supervisors, and worker lines as JSON beside JSON events.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
}

teardown() { arbor_teardown; }

ini() { cat >"$INI"; }

# ---- the pipes belong to the worker ----

@test "prefix: a worker run as nobody can open /dev/stdout and /dev/stderr" {
	ini <<-EOF
		[worker w]
		command = /bin/sh -c "echo hi > /dev/stdout && echo ho > /dev/stderr && exec sleep 1001"
		user = nobody
		stdout = prefix
		stderr = prefix
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/arbor.out" '^\[w\] hi$'
	wait_log "$T/arbor.log" '^\[w\] ho$'
	run grep -c 'Permission denied' "$T/arbor.log"
	assert_output 0
}

@test "prefix: a worker with group = only owns the pipe's group" {
	ini <<-EOF
		[worker w]
		command = /bin/sh -c "stat -L -c '%u:%g %a' /proc/self/fd/1; exec sleep 1001"
		group = nogroup
		stdout = prefix
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/arbor.out" "^\\[w\\] 0:$(getent group nogroup | cut -d: -f3) 600\$"
}
