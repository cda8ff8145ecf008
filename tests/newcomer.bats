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

# ---- the configuration's default path ----

@test "config path: arbor with no argument runs the tree of \$ARBOR_CONFIG" {
	ini <<-EOF
		[worker w]
		command = /bin/sleep 1001
	EOF
	ARBOR_CONFIG=$INI arbor_bg
	wait_log "$T/arbor.log" '^arbor: started w '
	run "$ARBORCTL" status w
	assert_success
	assert_output --partial running
}

@test "config path: arbor with no argument runs /etc/arbor/arbor.ini" {
	mkdir -p "$T/up/arbor" "$T/work"
	ini <<-EOF
		[worker from-etc]
		command = /bin/sleep 1001
	EOF
	cp "$INI" "$T/up/arbor/arbor.ini"
	export ARBOR_SOCKET=$T/arbor.sock
	LOG=$T/arbor.log
	# /etc as it is, with arbor/arbor.ini added, in a mount namespace
	# shellcheck disable=SC2046
	env -u ARBOR_CONFIG unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/up,workdir=$1/work" /etc &&
		shift && exec unshare -pf --mount-proc "$@"' sh "$T" $(arbor_cmd) \
		</dev/null >"$T/arbor.out" 2>"$LOG" &
	ARBOR_PID=$!
	wait_log "$LOG" '^arbor: started from-etc '
}

@test "config path: with neither, a usage error (64) names both" {
	[ ! -e /etc/arbor/arbor.ini ] || skip "/etc/arbor/arbor.ini exists here"
	run env -u ARBOR_CONFIG "$ARBOR"
	assert_equal "$status" 64
	assert_output --partial '$ARBOR_CONFIG is unset'
	assert_output --partial '/etc/arbor/arbor.ini does not exist'
	run env ARBOR_CONFIG="$T/none.ini" "$ARBOR"
	assert_equal "$status" 64
	assert_output --partial "\$ARBOR_CONFIG names $T/none.ini, which does not exist"
	run env ARBOR_CONFIG="$T/none.ini" "$ARBOR" -v
	assert_equal "$status" 64
}

@test "config path: -c and a command still win over \$ARBOR_CONFIG" {
	run env ARBOR_CONFIG="$T/none.ini" "$ARBOR" -- /bin/sh -c 'exit 7'
	assert_equal "$status" 7
	echo '[worker w]
command = /bin/true' >"$INI"
	run env ARBOR_CONFIG="$T/none.ini" "$ARBOR" check -c "$INI"
	assert_success
	run env ARBOR_CONFIG="$T/none.ini" "$ARBOR" --
	assert_equal "$status" 64
	assert_output --partial '-- needs a command'
}

# ---- log_format = json ----

@test "json: relayed worker lines are JSON objects beside the JSON events" {
	printf 'say "hi" \\ back\t\001 \377 caf\303\251\n' >"$T/line"
	ini <<-EOF
		[arbor]
		log_format = json
		[supervisor web]
		[worker web/app]
		command = /bin/sh -c "cat $T/line; echo to-stderr >&2; exec sleep 1001"
		stdout = prefix
		stderr = prefix
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/arbor.out" '"line":"say '
	wait_log "$T/arbor.log" '"line":"to-stderr"'
	wait_log "$T/arbor.log" '"event":"ready"'
	run jq -c . "$T/arbor.out"
	assert_success
	assert_output '{"path":"web/app","stream":"stdout","line":"say \"hi\" \\ back\t\u0001 � café"}'
	# every line of the log is JSON: events and the worker's stderr alike
	run jq -r 'select(.stream == "stderr") | .path + " " + .line' "$T/arbor.log"
	assert_success
	assert_output 'web/app to-stderr'
	run grep -c '^\[' "$T/arbor.log"
	assert_output 0
}

# ---- process titles ----

# only_child PID: the one child of PID (waits for it).
only_child() {
	wait_until test -n "$(pgrep -P "$1")" || return 1
	pgrep -P "$1"
}

@test "title: ps shows each nested supervisor as 'arbor: supervisor PATH'" {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "under valgrind, ps shows valgrind's command line"
	long=a-name-much-longer-than-the-command-line-that-started-arbor-itself
	ini <<-EOF
		[supervisor web]
		[supervisor web/$long]
		[worker web/$long/w]
		command = /bin/sh -c 'echo "FOO=\$FOO"; exec sleep 1001'
		stdout = prefix
	EOF
	FOO='the environment is intact' arbor_bg -c "$INI"
	wait_log "$T/arbor.out" "^\\[web/$long/w\\] FOO=the environment is intact\$"
	root=$(arbor_inner_pid)
	web=$(only_child "$root")
	deep=$(only_child "$web")
	run ps -o args= -p "$web"
	assert_output "arbor: supervisor web"
	run ps -o args= -p "$deep"
	assert_output "arbor: supervisor web/$long"
	run ps -o args= -p "$root"
	assert_output "$ARBOR -c $INI"
	# the title stays after a restart of the nested supervisor
	kill -KILL "$deep"
	wait_until bash -c "p=\$(pgrep -P $web) && [ \"\$p\" != $deep ]"
	run ps -o args= -p "$(pgrep -P "$web")"
	assert_output "arbor: supervisor web/$long"
}
