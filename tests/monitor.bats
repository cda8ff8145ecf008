#!/usr/bin/env bats
# Monitors: a genserver worker told "DOWN PATH REASON" and "UP PATH" as other
# nodes stop and run again (monitor = in the file, arbor_monitor() at run
# time). Two watchers: the C watcher at the root (tests/fixtures/watcher.c,
# libarbor) and pymonitor.py under a nested supervisor, written from
# arbor-protocol(7) alone. Each writes every message it gets as a line of
# its own file, after "started".
bats_require_minimum_version 1.5.0
load helper

setup() {
	[[ $BATS_TEST_DESCRIPTION == config:* ]] && return	# arbor check only
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	W=$T/w.log
	PY=$T/py.log
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 1000
		period = 5

		[worker db]
		command = /bin/sleep 1000

		[supervisor web]
		intensity = 1000
		period = 5

		[worker web/db]
		command = /bin/sleep 1000

		[worker quit]
		command = /bin/sh -c 'while [ ! -e $T/quit ]; do sleep 0.05; done; rm -f $T/quit; exit 3'

		[worker w]
		command = $FIXBIN/watcher $W
		genserver = yes
		monitor = db web/db

		[worker pw]
		command = $FIXBIN/watcher $T/pw.log
		genserver = yes
		instances = 1
		monitor = db

		[supervisor app]
		intensity = 1000
		period = 5

		[worker app/py]
		command = /usr/bin/python3 $FIXTURES/pymonitor.py $PY
		genserver = yes
		monitor = db web/db
	EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

teardown() { arbor_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# running_pid PATH: PATH's pid (inside the namespace) while it runs.
running_pid() { ctl status "$1" --json | jq -er 'select(.state == "running") | .pid'; }

# restarted PATH OLD: PATH runs again under a pid other than OLD.
restarted() { local p; p=$(running_pid "$1") && [ "$p" != "$2" ]; }

# kill9 PATH: kill -9 of PATH's process, from outside, then until it runs
# again.
kill9() {
	local p o
	p=$(running_pid "$1")
	o=$(outer_pid "$p")
	kill -KILL "$o"
	wait_until restarted "$1" "$p"
}

# mark FILE: how many lines FILE has now; since FILE N: the lines after N.
mark() { wc -l <"$1"; }
since() { tail -n +$(($2 + 1)) "$1"; }

# told FILE N LINE...: exactly these lines came after mark N (waiting for
# as many lines as expected, then comparing them all).
told() {
	local f=$1 n=$2
	shift 2
	wait_until eval "[ \$(mark '$f') -ge $((n + $#)) ]" || { since "$f" "$n"; return 1; }
	run since "$f" "$n"
	assert_output "$(printf '%s\n' "$@")"
}

@test "watchers of running nodes are told nothing at start" {
	wait_until running_pid w
	[ "$(cat "$W")" = started ]
	wait_file "$PY"
	[ "$(cat "$PY")" = started ]
}

@test "kill -9 of db: DOWN db signal SIGKILL, then UP db, to both watchers" {
	local a b
	a=$(mark "$W")
	b=$(mark "$PY")
	kill9 db
	told "$W" "$a" "DOWN db signal SIGKILL" "UP db"
	told "$PY" "$b" "DOWN db signal SIGKILL" "UP db"
}

@test "a pool's monitor = is each member's" {
	local a
	wait_file "$T/pw.log"
	a=$(mark "$T/pw.log")
	kill9 db
	told "$T/pw.log" "$a" "DOWN db signal SIGKILL" "UP db"
}

@test "kill -9 of web/db under a nested supervisor: DOWN and UP across supervisors" {
	local a b
	a=$(mark "$W")
	b=$(mark "$PY")
	kill9 web/db
	told "$W" "$a" "DOWN web/db signal SIGKILL" "UP web/db"
	told "$PY" "$b" "DOWN web/db signal SIGKILL" "UP web/db"
	ctl status app/py | grep -q running
}

@test "arborctl stop: DOWN db shutdown; a monitor set then: DOWN db noproc; start: UP db" {
	local a b
	a=$(mark "$W")
	b=$(mark "$PY")
	ctl stop db
	told "$W" "$a" "DOWN db shutdown"
	told "$PY" "$b" "DOWN db shutdown"
	a=$(mark "$W")
	b=$(mark "$PY")
	run ctl call w "monitor db"
	assert_output ok
	run ctl call app/py "monitor db"
	assert_output ok
	told "$W" "$a" "DOWN db noproc"
	told "$PY" "$b" "DOWN db noproc"
	ctl start db
	told "$W" "$((a + 1))" "UP db"
	told "$PY" "$((b + 1))" "UP db"
}

@test "a stopped node monitored for the first time answers DOWN noproc at once" {
	local a
	ctl stop quit
	a=$(mark "$W")
	run ctl call w "monitor quit"
	assert_output ok
	told "$W" "$a" "DOWN quit noproc"
	ctl start quit
	told "$W" "$a" "DOWN quit noproc" "UP quit"
}

@test "an exit with a status: DOWN quit exit 3" {
	local a
	run ctl call app/py "monitor quit"
	assert_output ok
	a=$(mark "$PY")
	quit_once
	told "$PY" "$a" "DOWN quit exit 3" "UP quit"
}

@test "a supervisor watched: its nodes and itself go DOWN and come UP" {
	local a p
	run ctl call w "monitor web"
	assert_output ok
	a=$(mark "$W")
	p=$(running_pid web)
	kill -KILL "$(outer_pid "$p")"
	told "$W" "$a" "DOWN web/db signal SIGKILL" "DOWN web signal SIGKILL" "UP web/db" "UP web"
}

@test "demonitor: nothing more comes for that node" {
	local a b
	run ctl call w "demonitor db"
	assert_output ok
	run ctl call app/py "demonitor db"
	assert_output ok
	a=$(mark "$W")
	b=$(mark "$PY")
	kill9 db
	# web/db's DOWN leaves after db's would have: its arrival proves none came
	kill9 web/db
	told "$W" "$a" "DOWN web/db signal SIGKILL" "UP web/db"
	told "$PY" "$b" "DOWN web/db signal SIGKILL" "UP web/db"
}

@test "a restarted watcher gets its monitor = paths again, with noproc, and loses the others" {
	local a p
	run ctl call w "monitor quit"
	assert_output ok
	a=$(mark "$W")
	ctl stop db
	told "$W" "$a" "DOWN db shutdown"
	a=$(mark "$W")
	p=$(running_pid w)
	kill -KILL "$(outer_pid "$p")"
	wait_until restarted w "$p"
	told "$W" "$a" started "DOWN db noproc"
	a=$(mark "$W")
	quit_once	# monitored before the restart only: not told
	kill9 web/db
	told "$W" "$a" "DOWN web/db signal SIGKILL" "UP web/db"
}

# quit_once: the worker quit exits 3 and runs again. Any DOWN or UP for it
# leaves the root before those of a later kill.
quit_once() {
	local p
	p=$(running_pid quit)
	touch "$T/quit"
	wait_until restarted quit "$p"
}

@test "a watcher stopped and started keeps only its monitor = paths" {
	local a
	run ctl call w "monitor quit"
	assert_output ok
	ctl stop w
	ctl start w
	wait_until running_pid w
	a=$(mark "$W")
	quit_once
	kill9 db
	told "$W" "$a" "DOWN db signal SIGKILL" "UP db"
	run ! grep quit "$W"
}

@test "a path that is no node: arbor_monitor fails with ENOENT, the wire's ERROR says no such child" {
	run -1 --separate-stderr ctl call w "monitor nope/x"
	assert_equal "$stderr" "arborctl: ENOENT: No such file or directory"
	run -1 --separate-stderr ctl call app/py "monitor nope/x"
	assert_equal "$stderr" "arborctl: no such child: nope/x"
	run ctl call w "demonitor nope/x"
	assert_output ok
	[ "$(cat "$W")" = started ]
}

@test "a CTL that is no request is answered an error, and the worker lives on" {
	local p
	p=$(running_pid app/py)
	run -1 --separate-stderr ctl call app/py "ctl frobnicate db"
	assert_equal "$stderr" "arborctl: bad request: expected monitor PATH or demonitor PATH"
	run -1 --separate-stderr ctl call app/py "ctl monitor"
	assert_equal "$stderr" "arborctl: bad request: expected monitor PATH or demonitor PATH"
	run ctl call app/py "ctl monitor db"
	assert_output ok
	[ "$(running_pid app/py)" = "$p" ]
}

@test "a node a reload removes: DOWN shutdown to its watchers (a watcher removed with it)" {
	local a
	run ctl call w "monitor quit"
	assert_output ok
	a=$(mark "$W")
	# without quit, and without app/py (a watcher of db)
	sed -i -e '/^\[worker quit\]/,/^$/d' -e '/^\[worker app\/py\]/,$d' "$INI"
	run ctl reload
	assert_success
	told "$W" "$a" "DOWN quit shutdown"
	ctl status | grep -q '^app '
	run ! ctl status app/py
	kill9 db
	told "$W" "$a" "DOWN quit shutdown" "DOWN db signal SIGKILL" "UP db"
}

# bad MESSAGE < INI: arbor check of INI exits 78 with exactly
# "arbor: FILE:MESSAGE" on stderr.
bad() {
	local f=$BATS_TEST_TMPDIR/bad.ini
	cat >"$f"
	run --separate-stderr $(arbor_cmd) check -c "$f"
	assert_equal "$status" 78
	assert_equal "$stderr" "arbor: $f:$1"
}

@test "config: monitor = is checked: a node of the tree, on a genserver, not itself" {
	bad '4: [worker w]: monitor = web/nope: no such node in the tree (paths are whole paths from the root, as web/db)' <<-EOF
		[worker w]
		command = /bin/true
		genserver = yes
		monitor = db web/nope
		[worker db]
		command = /bin/true
	EOF
	bad '3: [worker w]: monitor: needs genserver = yes (DOWN and UP come as messages to handle_info)' <<-EOF
		[worker w]
		command = /bin/true
		monitor = w2
		[worker w2]
		command = /bin/true
	EOF
	bad '4: [worker w]: monitor = w: a worker cannot monitor itself' <<-EOF
		[worker w]
		command = /bin/true
		genserver = yes
		monitor = w
	EOF
	bad '4: [worker w]: monitor = : expected the paths of the nodes to watch (web/db)' <<-EOF
		[worker w]
		command = /bin/true
		genserver = yes
		monitor =
	EOF
	bad "2: [supervisor s]: monitor: not a key of this section (it belongs in [worker PATH])" <<-EOF
		[supervisor s]
		monitor = x
	EOF
}

@test "config: monitor = of a later node, a supervisor and a pool member is fine; check prints it" {
	local f=$BATS_TEST_TMPDIR/good.ini
	cat >"$f" <<-EOF
		[worker w]
		command = /bin/true
		genserver = yes
		monitor = web web/db pool/2
		[supervisor web]
		[worker web/db]
		command = /bin/true
		[worker pool]
		command = /bin/true
		instances = 2
	EOF
	run --separate-stderr $(arbor_cmd) check -c "$f"
	assert_equal "$status" 0
	assert_output --partial "monitor='web web/db pool/2'"
}
