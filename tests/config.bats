#!/usr/bin/env bats
# `arbor check -c FILE`: the INI loader seen from the command line. A good
# file prints its tree and exits 0; every mistake exits 78 before anything
# starts, with "arbor: FILE:LINE: [section]: key = value: what was expected".
# arbor runs under valgrind when the suite does (VALGRIND=1): a leak fails.

load helper
bats_require_minimum_version 1.5.0

teardown() { arbor_teardown; }

# bad MESSAGE < INI: checking INI (as $BATS_TEST_TMPDIR/bad.ini) exits 78,
# prints nothing on stdout and exactly "arbor: FILE:MESSAGE" on stderr.
bad() {
	local f=$BATS_TEST_TMPDIR/bad.ini
	cat >"$f"
	run --separate-stderr $(arbor_cmd) check -c "$f"
	echo "status: $status"
	echo "stderr: $stderr"
	echo "  want: arbor: $f:$1"
	assert_equal "$status" 78
	assert_equal "$output" ""
	assert_equal "$stderr" "arbor: $f:$1"
}

# good < INI: checking INI (as $BATS_TEST_TMPDIR/good.ini) exits 0; the
# tree is in $output.
good() {
	GOOD=$BATS_TEST_TMPDIR/good.ini
	cat >"$GOOD"
	run --separate-stderr $(arbor_cmd) check -c "$GOOD"
	echo "$output"
	echo "stderr: $stderr"
	assert_equal "$status" 0
	assert_equal "$stderr" ""
}

# The examples name ../build/counter: give them a build/ next to conf/.
examples() {
	mkdir -p "$BATS_TEST_TMPDIR/ex/conf"
	ln -sfn "$BUILD" "$BATS_TEST_TMPDIR/ex/build"
	cp "$ROOT"/conf/*.ini "$BATS_TEST_TMPDIR/ex/conf/"
	EX=$(cd "$BATS_TEST_TMPDIR/ex" && pwd -P)
}

@test "config: the demo prints the seed's tree" {
	examples
	cd "$EX"
	run --separate-stderr $(arbor_cmd) check -c conf/demo.ini
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" "arbor: log_format=text
root: supervisor strategy=one_for_one intensity=3 period=5
├── database: supervisor strategy=one_for_one intensity=1 period=5
│   └── agent: worker restart=permanent genserver=yes command=$EX/build/agent
├── web: supervisor strategy=rest_for_one intensity=5 period=10
│   ├── counter: worker restart=permanent genserver=yes command=$EX/build/counter 0
│   └── static: worker restart=permanent shutdown=2000 command=/bin/sleep infinity
└── background: pool instances=3 intensity=10 period=60
    ├── 1: worker restart=transient shutdown=brutal_kill command=/bin/sleep infinity
    ├── 2: worker restart=transient shutdown=brutal_kill command=/bin/sleep infinity
    └── 3: worker restart=transient shutdown=brutal_kill command=/bin/sleep infinity
conf/demo.ini: ok (4 supervisors, 6 workers)"
}

@test "config: every example in conf/ passes" {
	examples
	for f in "$EX"/conf/*.ini; do
		run --separate-stderr $(arbor_cmd) check -c "$f"
		echo "$f: $status $stderr"
		assert_equal "$status" 0
		assert_regex "${lines[-1]}" "^$f: ok \([0-9]+ supervisors?, [0-9]+ workers?\)\$"
	done
	run $(arbor_cmd) check -c "$EX/conf/nested.ini"
	assert_line "        └── jobs: supervisor strategy=one_for_all intensity=1 period=5"
	assert_line --partial "main: worker restart=transient significant=yes ready=exec stdout=prefix command=/bin/sh -c 'echo \"app up\"; exec sleep infinity'"
}

@test "config: an empty file is a root with OTP's defaults" {
	good </dev/null
	assert_equal "$output" "root: supervisor strategy=one_for_one intensity=1 period=5
$GOOD: ok (1 supervisor, 0 workers)"
}

@test "config: file order is start order; the root's flags may come anywhere" {
	good <<-'EOF'
	[worker z]
	command = /bin/true
	[supervisor a]
	[worker a/y]
	command = /bin/true
	[worker b]
	command = /bin/true
	[supervisor]
	strategy = one_for_all
	intensity = 0
	period = 0.25
	EOF
	assert_equal "$output" "root: supervisor strategy=one_for_all intensity=0 period=0.25
├── z: worker restart=permanent command=/bin/true
├── a: supervisor strategy=one_for_one intensity=1 period=5
│   └── y: worker restart=permanent command=/bin/true
└── b: worker restart=permanent command=/bin/true
$GOOD: ok (2 supervisors, 3 workers)"
}

@test "config: a significant child may come before the root's auto_shutdown" {
	good <<-'EOF'
	[worker main]
	command = /bin/true
	restart = transient
	significant = yes
	[supervisor]
	auto_shutdown = any_significant
	EOF
	assert_line "root: supervisor strategy=one_for_one intensity=1 period=5 auto_shutdown=any_significant"
	assert_line "└── main: worker restart=transient significant=yes command=/bin/true"
}

@test "config: a pool runs N copies named 1..N" {
	good <<-'EOF'
	[worker pool]
	command = /bin/sleep infinity
	instances = 3
	restart = temporary
	EOF
	assert_line "└── pool: pool instances=3 intensity=1 period=5"
	assert_line "    ├── 1: worker restart=temporary command=/bin/sleep infinity"
	assert_line "    ├── 2: worker restart=temporary command=/bin/sleep infinity"
	assert_line "    └── 3: worker restart=temporary command=/bin/sleep infinity"
	assert_line "$GOOD: ok (2 supervisors, 3 workers)"
}

@test "config: command is split like sh, without a shell, and found like exec" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/bin/tool"
	chmod +x "$BATS_TEST_TMPDIR/bin/tool"
	good <<-'EOF'
	[worker rel]
	command = ./bin/../bin/tool "a b" 'c "d"' e\ f $HOME *
	[worker path]
	command = sh -c 'exit 0'
	EOF
	local dir
	dir=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	assert_line "├── rel: worker restart=permanent command=$dir/bin/tool 'a b' 'c \"d\"' 'e f' '\$HOME' '*'"
	assert_line --regexp "^└── path: worker restart=permanent command=/[^ ]*/sh -c 'exit 0'\$"
}

@test "config: a ; after a blank is a comment, except inside a command's quotes" {
	good <<-'EOF'
	[worker q]
	command = sh -c 'sleep 1 ; exit 3' "x ;y" z\ ;w ; the comment
	[worker plain]
	command = sh -c 'exit 0' ; a comment
	restart = transient ; another
	EOF
	assert_line --regexp "^├── q: worker restart=permanent command=/[^ ]*/sh -c 'sleep 1 ; exit 3' 'x ;y' 'z ;w'\$"
	assert_line --regexp "^└── plain: worker restart=transient command=/[^ ]*/sh -c 'exit 0'\$"
}

@test "config: include reads matches in sorted order after the file" {
	mkdir -p "$BATS_TEST_TMPDIR/conf.d/more"
	# created out of order, so that directory order is not sorted order
	printf '[worker b]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/conf.d/20-b.ini"
	printf '[arbor]\ninclude = more/*.ini\n[supervisor a]\n' >"$BATS_TEST_TMPDIR/conf.d/10-a.ini"
	printf '[worker c]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/conf.d/30-c.ini"
	printf '[worker a/x]\ncommand = /bin/true\n' >"$BATS_TEST_TMPDIR/conf.d/more/x.ini"
	good <<-'EOF'
	[arbor]
	include = conf.d/*.ini
	[worker first]
	command = /bin/true
	[arbor]
	include = none.d/*.ini
	EOF
	assert_equal "$output" "arbor: include='conf.d/*.ini' include='none.d/*.ini' include='more/*.ini'
root: supervisor strategy=one_for_one intensity=1 period=5
├── first: worker restart=permanent command=/bin/true
├── a: supervisor strategy=one_for_one intensity=1 period=5
│   └── x: worker restart=permanent command=/bin/true
├── b: worker restart=permanent command=/bin/true
└── c: worker restart=permanent command=/bin/true
$GOOD: ok (2 supervisors, 4 workers)"
}

@test "config: an error in an included file names that file" {
	mkdir -p "$BATS_TEST_TMPDIR/conf.d"
	printf '\n[worker x]\nrestart = always\n' >"$BATS_TEST_TMPDIR/conf.d/x.ini"
	printf '[arbor]\ninclude = conf.d/*.ini\n' >"$BATS_TEST_TMPDIR/top.ini"
	cd "$BATS_TEST_TMPDIR"
	run -78 --separate-stderr $(arbor_cmd) check -c top.ini
	assert_equal "$stderr" "arbor: conf.d/x.ini:3: [worker x]: restart = always: expected permanent, transient or temporary"
}

@test "config: a file including itself stops at depth 8" {
	bad "2: [arbor]: include = bad.ini: includes nested deeper than 8 (does a file include itself?)" <<-'EOF'
	[arbor]
	include = bad.ini
	EOF
}

@test "config: all worker set-up keys are accepted" {
	printf 'A=1\n' >"$BATS_TEST_TMPDIR/app.env"
	good <<-'EOF'
	[arbor]
	control_socket = /tmp/arbor-test.sock
	control_group = root
	log_format = json
	[worker w]
	command = /bin/true
	user = root
	group = root
	groups = root, 0
	capabilities = CAP_NET_BIND_SERVICE, chown kill
	no_new_privs = yes
	rlimit_nofile = 1024:4096
	rlimit_core = 0
	rlimit_as = infinity
	nice = 5
	oom_score_adj = -100
	umask = 027
	cwd = /tmp
	env = A=1
	env = B=two words
	env_file = app.env
	clear_env = yes
	stdout = prefix
	stderr = file:log/err.txt
	ready = fd:3
	start_timeout = infinity
	max_message = 64KiB
	stop_signal = SIGINT
	shutdown = brutal_kill
	EOF
	local d
	d=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	assert_line "arbor: control_socket=/tmp/arbor-test.sock control_group=root log_format=json"
	assert_line "└── w: worker restart=permanent user=root shutdown=brutal_kill stop_signal=SIGINT ready=fd:3 start_timeout=infinity max_message=65536 group=0 groups=0,0 capabilities=net_bind_service,chown,kill no_new_privs=yes nice=5 oom_score_adj=-100 umask=0027 cwd=/tmp env_file=$d/app.env clear_env=yes stdout=prefix stderr=file:$d/log/err.txt rlimit_as=infinity rlimit_core=0 rlimit_nofile=1024:4096 env=A=1 env='B=two words' command=/bin/true"
}

@test "config: unknown key names file:line and suggests the closest key" {
	bad "2: [worker a]: unknown key 'comand' (did you mean 'command'?)" <<-'EOF'
	[worker a]
	comand = /bin/true
	EOF
	bad "3: [worker a]: unknown key 'rlimit_nofle' (did you mean 'rlimit_nofile'?)" <<-'EOF'
	[worker a]
	command = /bin/true
	rlimit_nofle = 10
	EOF
	bad "2: [supervisor s]: unknown key 'strategie' (did you mean 'strategy'?)" <<-'EOF'
	[supervisor s]
	strategie = one_for_all
	EOF
	bad "3: [worker a]: unknown key 'colour'" <<-'EOF'
	[worker a]
	command = /bin/true
	colour = blue
	EOF
}

@test "config: a key in the wrong section says where it belongs" {
	bad "2: [supervisor s]: command: not a key of this section (it belongs in [worker PATH])" <<-'EOF'
	[supervisor s]
	command = /bin/true
	EOF
	bad "3: [worker a]: strategy: not a key of this section (it belongs in [supervisor PATH])" <<-'EOF'
	[worker a]
	command = /bin/true
	strategy = one_for_all
	EOF
	bad "2: [arbor]: restart: not a key of this section (it belongs in [supervisor PATH] or [worker PATH])" <<-'EOF'
	[arbor]
	restart = temporary
	EOF
}

@test "config: unknown section type suggests the closest" {
	bad "1: unknown section [wroker a] (did you mean [worker a]?)" <<-'EOF'
	[wroker a]
	command = /bin/true
	EOF
	bad "2: unknown section [service a] (expected [arbor], [supervisor PATH] or [worker PATH])" <<-'EOF'

	[service a]
	EOF
}

@test "config: bad strategy, restart, shutdown, auto_shutdown" {
	bad "2: [supervisor s]: strategy = one_for_none: expected one_for_one, one_for_all or rest_for_one" <<-'EOF'
	[supervisor s]
	strategy = one_for_none
	EOF
	bad "3: [worker a]: restart = always: expected permanent, transient or temporary" <<-'EOF'
	[worker a]
	command = /bin/true
	restart = always
	EOF
	bad "3: [worker a]: shutdown = -5: negative: expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h), brutal_kill or infinity" <<-'EOF'
	[worker a]
	command = /bin/true
	shutdown = -5
	EOF
	bad "2: [supervisor]: auto_shutdown = sometimes: expected never, any_significant or all_significant" <<-'EOF'
	[supervisor]
	auto_shutdown = sometimes
	EOF
}

@test "config: intensity < 0 and period <= 0 are refused" {
	bad "2: [supervisor]: intensity = -1: expected an integer >= 0" <<-'EOF'
	[supervisor]
	intensity = -1
	EOF
	bad "2: [supervisor s]: period = 0: expected seconds > 0 (5, 0.5) or a duration with a unit (500ms, 10s, 2min, 1h)" <<-'EOF'
	[supervisor s]
	period = 0
	EOF
	bad "2: [supervisor s]: period = 0.0001: finer than a millisecond: expected seconds > 0 (5, 0.5) or a duration with a unit (500ms, 10s, 2min, 1h)" <<-'EOF'
	[supervisor s]
	period = 0.0001
	EOF
}

@test "config: durations take a unit (ms, s, min, h); a bare number keeps the key's unit" {
	good <<-'EOF'
	[supervisor a]
	period = 2min
	[worker a/w]
	command = /bin/true
	shutdown = 10s
	start_timeout = 1.5min
	[supervisor b]
	period = 250ms
	[worker b/w]
	command = /bin/true
	shutdown = 2500
	start_timeout = 1h
	[supervisor c]
	period = 7
	EOF
	assert_line "├── a: supervisor strategy=one_for_one intensity=1 period=120"
	assert_line "├── b: supervisor strategy=one_for_one intensity=1 period=0.25"
	assert_line "└── c: supervisor strategy=one_for_one intensity=1 period=7"
}

@test "config: a bad duration names the key, what is wrong and what was expected" {
	local p="expected seconds > 0 (5, 0.5) or a duration with a unit (500ms, 10s, 2min, 1h)"
	local s="expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h), brutal_kill or infinity"
	local t="expected milliseconds > 0 or a duration with a unit (500ms, 10s, 2min, 1h), or infinity"
	bad "2: [supervisor s]: period = 5x: unknown unit: $p" <<-'EOF'
	[supervisor s]
	period = 5x
	EOF
	bad "2: [supervisor s]: period = 5m: 'm' is ambiguous (write ms or min): $p" <<-'EOF'
	[supervisor s]
	period = 5m
	EOF
	bad "2: [supervisor s]: period = -1s: negative: $p" <<-'EOF'
	[supervisor s]
	period = -1s
	EOF
	bad "2: [supervisor s]: period = 2147483648: too large (at most 2147483647s): $p" <<-'EOF'
	[supervisor s]
	period = 2147483648
	EOF
	bad "3: [worker a]: shutdown = 99999999999999999999h: too large (at most 2147483647s): $s" <<-'EOF'
	[worker a]
	command = /bin/true
	shutdown = 99999999999999999999h
	EOF
	bad "3: [worker a]: shutdown = 1.5: finer than a millisecond: $s" <<-'EOF'
	[worker a]
	command = /bin/true
	shutdown = 1.5
	EOF
	bad "3: [worker a]: start_timeout = 0s: $t" <<-'EOF'
	[worker a]
	command = /bin/true
	start_timeout = 0s
	EOF
	bad "3: [worker a]: start_timeout = ten: not a number: $t" <<-'EOF'
	[worker a]
	command = /bin/true
	start_timeout = ten
	EOF
}

@test "config: booleans are yes/no/true/false/on/off/1/0" {
	bad "3: [worker a]: genserver = maybe: expected yes or no" <<-'EOF'
	[worker a]
	command = /bin/true
	genserver = maybe
	EOF
	good <<-'EOF'
	[worker a]
	command = /bin/true
	genserver = on
	[worker b]
	command = /bin/true
	genserver = 0
	EOF
	assert_line "├── a: worker restart=permanent genserver=yes command=/bin/true"
	assert_line "└── b: worker restart=permanent genserver=no command=/bin/true"
}

@test "config: duplicate paths and keys given twice" {
	bad "4: [worker a]: duplicate path 'a' (first at $BATS_TEST_TMPDIR/bad.ini:1)" <<-'EOF'
	[worker a]
	command = /bin/true

	[worker a]
	command = /bin/true
	EOF
	bad "2: duplicate section [supervisor] (first at $BATS_TEST_TMPDIR/bad.ini:1)" <<-'EOF'
	[supervisor]
	[supervisor]
	EOF
	bad "3: [worker a]: restart: given twice (first at line 2)" <<-'EOF'
	[worker a]
	restart = transient
	restart = temporary
	command = /bin/true
	EOF
}

@test "config: a child before its parent, or under a worker or a pool" {
	bad "1: [worker web/api]: child before its parent: no [supervisor web] above it" <<-'EOF'
	[worker web/api]
	command = /bin/true
	[supervisor web]
	EOF
	bad "3: [worker a/b]: parent a is a worker, not a supervisor" <<-'EOF'
	[worker a]
	command = /bin/true
	[worker a/b]
	command = /bin/true
	EOF
	bad "4: [worker p/x]: parent p is a pool (instances = 2): its members are p/1..p/2" <<-'EOF'
	[worker p]
	command = /bin/true
	instances = 2
	[worker p/x]
	command = /bin/true
	EOF
}

@test "config: a path is names of [A-Za-z0-9_.@-] joined by /" {
	bad "1: [worker a//b]: bad path 'a//b': expected names of letters, digits, '_', '.', '@' or '-' joined by '/'" <<-'EOF'
	[worker a//b]
	EOF
	bad "1: [supervisor x y]: bad path 'x y': expected names of letters, digits, '_', '.', '@' or '-' joined by '/'" <<-'EOF'
	[supervisor x y]
	EOF
	bad "1: [worker] needs a path: [worker NAME]" <<-'EOF'
	[worker]
	EOF
}

@test "config: missing command names the section's line" {
	bad "2: [worker a]: missing command (the program to run)" <<-'EOF'

	[worker a]
	restart = transient

	[worker b]
	command = /bin/true
	EOF
	bad "1: [worker last]: missing command (the program to run)" <<-'EOF'
	[worker last]
	EOF
}

@test "config: a program that does not exist or is not executable" {
	bad "2: [worker a]: command = /nonexistent/prog --flag: /nonexistent/prog: No such file or directory" <<-'EOF'
	[worker a]
	command = /nonexistent/prog --flag
	EOF
	printf 'not a program\n' >"$BATS_TEST_TMPDIR/data.txt"
	chmod 0644 "$BATS_TEST_TMPDIR/data.txt"
	local dir
	dir=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	bad "2: [worker a]: command = ./data.txt: $dir/data.txt: not executable" <<-'EOF'
	[worker a]
	command = ./data.txt
	EOF
	bad "2: [worker a]: command = no-such-program-anywhere: no-such-program-anywhere: not found in PATH" <<-'EOF'
	[worker a]
	command = no-such-program-anywhere
	EOF
	bad "2: [worker a]: command = /tmp: /tmp: Is a directory" <<-'EOF'
	[worker a]
	command = /tmp
	EOF
}

@test "config: an unterminated quote in command" {
	bad "2: [worker a]: command = /bin/echo 'it: unterminated single quote" <<-'EOF'
	[worker a]
	command = /bin/echo 'it
	EOF
	bad "2: [worker a]: command = /bin/echo \"it: unterminated double quote" <<-'EOF'
	[worker a]
	command = /bin/echo "it
	EOF
}

@test "config: significant needs transient/temporary and an auto_shutdown" {
	bad "5: [worker a]: significant = yes: needs restart = transient or temporary (this child is permanent)" <<-'EOF'
	[supervisor]
	auto_shutdown = any_significant
	[worker a]
	command = /bin/true
	significant = yes
	EOF
	bad "4: [worker s/a]: significant = yes: the parent [supervisor s] has auto_shutdown = never (set any_significant or all_significant there)" <<-'EOF'
	[supervisor s]
	[worker s/a]
	command = /bin/true
	significant = yes
	restart = temporary
	EOF
	bad "3: [worker a]: significant = yes: the parent (the root) has auto_shutdown = never (set any_significant or all_significant there)" <<-'EOF'
	[worker a]
	command = /bin/true
	significant = yes
	restart = transient
	EOF
	good <<-'EOF'
	[supervisor s]
	auto_shutdown = all_significant
	restart = transient
	[worker s/a]
	command = /bin/true
	significant = yes
	restart = temporary
	EOF
	assert_line "└── s: supervisor strategy=one_for_one intensity=1 period=5 auto_shutdown=all_significant restart=transient"
	assert_line "    └── a: worker restart=temporary significant=yes command=/bin/true"
}

@test "config: the root has no parent: restart, shutdown, significant refused" {
	for key in "restart = temporary" "shutdown = 5" "significant = yes" "stop_signal = INT"; do
		bad "2: [supervisor]: ${key%% *}: the root supervisor has no parent (restart, shutdown, stop_signal and significant are for children)" <<-EOF
		[supervisor]
		$key
		EOF
	done
}

@test "config: ready, instances, intensity of a worker, max_message" {
	bad "3: [worker a]: ready = genserver: needs genserver = yes" <<-'EOF'
	[worker a]
	command = /bin/true
	ready = genserver
	EOF
	bad "3: [worker a]: ready = fd:1: expected exec, fd:N (3 <= N <= 1023), notify, genserver or exit" <<-'EOF'
	[worker a]
	command = /bin/true
	ready = fd:1
	EOF
	bad "3: [worker a]: instances = 0: expected an integer from 1 to 10000" <<-'EOF'
	[worker a]
	command = /bin/true
	instances = 0
	EOF
	bad "3: [worker a]: period: only for a pool (with instances = N)" <<-'EOF'
	[worker a]
	command = /bin/true
	period = 3
	EOF
	bad "3: [worker a]: max_message = 10: expected bytes from 64 to 1GiB (e.g. 65536, 64K, 1MiB)" <<-'EOF'
	[worker a]
	command = /bin/true
	max_message = 10
	EOF
}

@test "config: unknown user, group or capability; bad rlimit; unreadable env_file" {
	bad "3: [worker a]: user = no-such-user-here: no such user" <<-'EOF'
	[worker a]
	command = /bin/true
	user = no-such-user-here
	EOF
	bad "3: [worker a]: group = no-such-group-here: no such group" <<-'EOF'
	[worker a]
	command = /bin/true
	group = no-such-group-here
	EOF
	bad "3: [worker a]: groups = root, no-such-group-here: no such group 'no-such-group-here'" <<-'EOF'
	[worker a]
	command = /bin/true
	groups = root, no-such-group-here
	EOF
	bad "3: [worker a]: capabilities = net_bind_service cap_sys_bogus: unknown capability 'cap_sys_bogus'" <<-'EOF'
	[worker a]
	command = /bin/true
	capabilities = net_bind_service cap_sys_bogus
	EOF
	bad "3: [worker a]: rlimit_nofile = lots: expected LIMIT or SOFT:HARD, each a number or infinity" <<-'EOF'
	[worker a]
	command = /bin/true
	rlimit_nofile = lots
	EOF
	bad "3: [worker a]: rlimit_nofile = 10:5: the soft limit is above the hard limit" <<-'EOF'
	[worker a]
	command = /bin/true
	rlimit_nofile = 10:5
	EOF
	local dir
	dir=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	bad "3: [worker a]: env_file = missing.env: $dir/missing.env: No such file or directory" <<-'EOF'
	[worker a]
	command = /bin/true
	env_file = missing.env
	EOF
	bad "3: [worker a]: env_file = /: /: Is a directory" <<-'EOF'
	[worker a]
	command = /bin/true
	env_file = /
	EOF
	bad "3: [worker a]: env_file = /dev/zero: /dev/zero: not a regular file" <<-'EOF'
	[worker a]
	command = /bin/true
	env_file = /dev/zero
	EOF
	printf 'A=1\n# fine\nNOT A LINE\n' >"$BATS_TEST_TMPDIR/bad.env"
	bad "3: [worker a]: env_file = bad.env: $dir/bad.env:3: expected KEY=VALUE" <<-'EOF'
	[worker a]
	command = /bin/true
	env_file = bad.env
	EOF
	bad "3: [worker a]: user = 4242: uid 4242 has no passwd entry, so group = is needed" <<-'EOF'
	[worker a]
	command = /bin/true
	user = 4242
	EOF
}

@test "config: nice, oom_score_adj, umask, stdout and stop_signal values" {
	bad "3: [worker a]: nice = 20: expected an integer from -20 to 19" <<-'EOF'
	[worker a]
	command = /bin/true
	nice = 20
	EOF
	bad "3: [worker a]: oom_score_adj = -1001: expected an integer from -1000 to 1000" <<-'EOF'
	[worker a]
	command = /bin/true
	oom_score_adj = -1001
	EOF
	bad "3: [worker a]: umask = 0999: expected an octal mode such as 022 or 0077" <<-'EOF'
	[worker a]
	command = /bin/true
	umask = 0999
	EOF
	bad "3: [worker a]: stdout = syslog: expected inherit, prefix, null or file:PATH" <<-'EOF'
	[worker a]
	command = /bin/true
	stdout = syslog
	EOF
	bad "3: [worker a]: stop_signal = SIGNOPE: expected a signal name or number (TERM, SIGINT, 15)" <<-'EOF'
	[worker a]
	command = /bin/true
	stop_signal = SIGNOPE
	EOF
}

@test "config: [arbor] keys: control_group, log_format, a key outside any section" {
	bad "2: [arbor]: control_group = no-such-group-here: no such group" <<-'EOF'
	[arbor]
	control_group = no-such-group-here
	EOF
	bad "2: [arbor]: log_format = xml: expected text or json" <<-'EOF'
	[arbor]
	log_format = xml
	EOF
	bad "1: strategy = one_for_all: outside any section (a key goes under [arbor], [supervisor ...] or [worker ...])" <<-'EOF'
	strategy = one_for_all
	EOF
	bad "3: [worker a]: expected KEY = VALUE, a [section] or a ; comment" <<-'EOF'
	[worker a]
	command = /bin/true
	oops
	EOF
}

@test "config: a file that cannot be read" {
	run -78 --separate-stderr $(arbor_cmd) check -c "$BATS_TEST_TMPDIR/nothere.ini"
	assert_equal "$stderr" "arbor: $BATS_TEST_TMPDIR/nothere.ini: cannot read: No such file or directory"
	assert_equal "$output" ""
}

# refused FILE: what arbor says of a file writable by others.
refused() {
	echo "arbor: $1: writable by others (mode $2): refusing to run it as root, since anyone could make arbor run any program as root; run chmod o-w $1"
}

# A top file that includes conf.d/b.ini, both 0644, in $BATS_TEST_TMPDIR/wr.
writable_tree() {
	[ "$(id -u)" = 0 ] || skip "arbor refuses writable files only as root"
	WR=$BATS_TEST_TMPDIR/wr
	mkdir -p "$WR/conf.d"
	printf '[arbor]\ninclude = conf.d/*.ini\n[worker a]\ncommand = /bin/true\n' >"$WR/top.ini"
	printf '[worker b]\ncommand = /bin/true\n' >"$WR/conf.d/b.ini"
	chmod 0644 "$WR/top.ini" "$WR/conf.d/b.ini"
	export ARBOR_SOCKET=$BATS_TEST_TMPDIR/arbor.sock
	run --separate-stderr $(arbor_cmd) check -c "$WR/top.ini"
	assert_equal "$status" 0
	assert_line "└── b: worker restart=permanent command=/bin/true"
}

@test "config: as root, a top file writable by others is refused (check and run)" {
	writable_tree
	chmod 0666 "$WR/top.ini"
	run -78 --separate-stderr $(arbor_cmd) check -c "$WR/top.ini"
	assert_equal "$stderr" "$(refused "$WR/top.ini" 0666)"
	assert_equal "$output" ""
	chmod 0602 "$WR/top.ini"
	run -78 --separate-stderr $(arbor_cmd) -c "$WR/top.ini"
	assert_equal "$stderr" "$(refused "$WR/top.ini" 0602)"
	# the name as given, so that the suggested chmod works where it was typed
	cd "$WR"
	run -78 --separate-stderr $(arbor_cmd) check -c top.ini
	assert_equal "$stderr" "$(refused top.ini 0602)"
	chmod 0664 "$WR/top.ini"	# writable by its group only: fine
	run -0 --separate-stderr $(arbor_cmd) check -c top.ini
}

@test "config: as root, an included file writable by others is refused (check and run)" {
	writable_tree
	chmod 0666 "$WR/conf.d/b.ini"
	run -78 --separate-stderr $(arbor_cmd) check -c "$WR/top.ini"
	assert_equal "$stderr" "$(refused "$WR/conf.d/b.ini" 0666)"
	assert_equal "$output" ""
	run -78 --separate-stderr $(arbor_cmd) -c "$WR/top.ini"
	assert_equal "$stderr" "$(refused "$WR/conf.d/b.ini" 0666)"
	[ ! -e "$ARBOR_SOCKET" ]	# refused before anything started
	cd "$WR"
	run -78 --separate-stderr $(arbor_cmd) check -c top.ini
	assert_equal "$stderr" "$(refused conf.d/b.ini 0666)"
	chmod o-w conf.d/b.ini	# the advice works
	run -0 --separate-stderr $(arbor_cmd) check -c top.ini
}

@test "config: check without -c, or with an unknown flag, is a usage error" {
	run --separate-stderr $(arbor_cmd) check
	assert_equal "$status" 64
	assert_regex "$stderr" '^arbor: '
	run --separate-stderr $(arbor_cmd) check -q -c "$ROOT/conf/minimal.ini"
	assert_equal "$status" 64
	assert_regex "$stderr" '^arbor: '
}

# A worker that writes what it was given (argv and env) to $SEEN, or to
# $SEEN.NAME when its env has AS=NAME, once.
seen_worker() {
	SEEN=$BATS_TEST_TMPDIR/seen
	cat >"$BATS_TEST_TMPDIR/seen.sh" <<-EOF
	#!/bin/sh
	out=$SEEN\${AS:+.\$AS}
	echo "\$*|port=\$PORT|mode=\$MODE|greet=\$GREETING" >\$out.tmp
	mv \$out.tmp \$out
	exec sleep infinity
	EOF
	chmod +x "$BATS_TEST_TMPDIR/seen.sh"
}

@test "config: \${NAME} and its forms come from arbor's environment; \$\$ and a bare \$NAME stay" {
	PORT=8080 EMPTY= good <<-'EOF'
	[worker w]
	command = /bin/echo ${PORT} ${NOPE:-dflt} "${EMPTY-kept}" ${NOPE-${PORT}} $$PORT $PORT ${PORT:?x}
	env = MODE=${MODE_UNSET:-dev}
	EOF
	assert_line "└── w: worker restart=permanent env=MODE=dev command=/bin/echo 8080 dflt '' 8080 '\$PORT' '\$PORT' 8080"
}

@test "config: \${PORT} reaches a worker's command and env at run time" {
	seen_worker
	cat >"$BATS_TEST_TMPDIR/t.ini" <<-EOF
	[worker w]
	command = ./seen.sh --port=\${PORT}
	env = PORT=\${PORT}
	env = MODE=\${MODE:-dev}
	env = GREETING=\$\$literal
	EOF
	PORT=8080 arbor_bg -c "$BATS_TEST_TMPDIR/t.ini"
	wait_file "$SEEN"
	assert_equal "$(cat "$SEEN")" "--port=8080|port=8080|mode=dev|greet=\$literal"
}

@test "config: reload reads \${NAME} again; an unset one there changes nothing" {
	seen_worker
	local ini=$BATS_TEST_TMPDIR/t.ini
	printf '[worker w]\ncommand = ./seen.sh ${TAG:-one}\n' >"$ini"
	arbor_bg -c "$ini"
	wait_file "$SEEN"
	assert_equal "$(cat "$SEEN")" "one|port=|mode=|greet="
	rm "$SEEN"
	printf '[worker w]\ncommand = ./seen.sh ${TAG:-two}\n' >"$ini"
	run -0 "$ARBORCTL" reload
	wait_file "$SEEN"
	assert_equal "$(cat "$SEEN")" "two|port=|mode=|greet="
	printf '[worker w]\ncommand = ./seen.sh\nenv = MODE=${ARBOR_TEST_UNSET}\n' >"$ini"
	run -1 --separate-stderr "$ARBORCTL" reload
	assert_regex "$stderr" "$ini:3: \[worker w\]: env = MODE=\\\$\{ARBOR_TEST_UNSET\}: \\\$\{ARBOR_TEST_UNSET\}: ARBOR_TEST_UNSET is not set"
	run -0 "$ARBORCTL" status w
	assert_output --partial running
}

@test "config: a bad \${...} is an error naming file:line, the key and the variable; nothing starts" {
	bad '3: [worker a]: env = A=${UNSET_IN_TEST}: ${UNSET_IN_TEST}: UNSET_IN_TEST is not set (give a default: ${UNSET_IN_TEST:-VALUE})' <<-'EOF'
	[worker a]
	command = /bin/true
	env = A=${UNSET_IN_TEST}
	EOF
	bad "2: [worker a]: command = /bin/echo \${PORT: \${PORT: unclosed '\${' (write \$\$ for a literal \$)" <<-'EOF'
	[worker a]
	command = /bin/echo ${PORT
	EOF
	bad '2: [worker a]: command = /bin/echo ${}: ${}: empty variable name' <<-'EOF'
	[worker a]
	command = /bin/echo ${}
	EOF
	bad "2: [worker a]: command = /bin/echo \${1X}: \${1X}: bad variable name '1X' (letters, digits and _, not starting with a digit)" <<-'EOF'
	[worker a]
	command = /bin/echo ${1X}
	EOF
	bad '2: [supervisor s]: period = ${UNSET_IN_TEST:?set the period}: ${UNSET_IN_TEST:?set the period}: UNSET_IN_TEST is not set: set the period' <<-'EOF'
	[supervisor s]
	period = ${UNSET_IN_TEST:?set the period}
	EOF
	PERIOD=5x bad '2: [supervisor s]: period = 5x (from ${PERIOD}): unknown unit: expected seconds > 0 (5, 0.5) or a duration with a unit (500ms, 10s, 2min, 1h)' <<-'EOF'
	[supervisor s]
	period = ${PERIOD}
	EOF
	# run, not check: nothing starts, not even the workers above the error
	local ran=$BATS_TEST_TMPDIR/ran
	printf '[worker first]\ncommand = /bin/touch %s\n[worker second]\ncommand = /bin/true\nenv = A=${UNSET_IN_TEST}\n' "$ran" >"$BATS_TEST_TMPDIR/run.ini"
	run -78 --separate-stderr $(arbor_cmd) -c "$BATS_TEST_TMPDIR/run.ini"
	assert_equal "$stderr" "arbor: $BATS_TEST_TMPDIR/run.ini:5: [worker second]: env = A=\${UNSET_IN_TEST}: \${UNSET_IN_TEST}: UNSET_IN_TEST is not set (give a default: \${UNSET_IN_TEST:-VALUE})"
	[ ! -e "$ran" ]
}

@test "config: env in [supervisor] sections: the subtree inherits it, deeper wins, a child's own wins" {
	seen_worker
	cat >"$BATS_TEST_TMPDIR/t.ini" <<-'EOF'
	[worker top]
	command = ./seen.sh
	env = AS=top
	[supervisor s]
	env = GREETING=hi-s
	env = PORT=1
	[worker s/w]
	command = ./seen.sh
	env = AS=sw
	env = PORT=2
	[supervisor s/deep]
	env = MODE=deep
	[worker s/deep/x]
	command = ./seen.sh
	env = AS=x
	[supervisor]                ; the root's section may come last
	env = MODE=root
	env = GREETING=hi-root
	EOF
	MODE=from-arbor arbor_bg -c "$BATS_TEST_TMPDIR/t.ini"
	wait_file "$SEEN.top"
	wait_file "$SEEN.sw"
	wait_file "$SEEN.x"
	assert_equal "$(cat "$SEEN.top")" "|port=|mode=root|greet=hi-root"
	assert_equal "$(cat "$SEEN.sw")" "|port=2|mode=root|greet=hi-s"
	assert_equal "$(cat "$SEEN.x")" "|port=1|mode=deep|greet=hi-s"
}

@test "config: env in [supervisor] is checked as a worker's is" {
	bad "2: [supervisor s]: env = 1A=x: expected KEY=VALUE, KEY of letters, digits and _" <<-'EOF'
	[supervisor s]
	env = 1A=x
	EOF
	bad "2: [arbor]: env: not a key of this section (it belongs in [supervisor PATH] or [worker PATH])" <<-'EOF'
	[arbor]
	env = A=1
	EOF
}

@test "config: reload gives a supervisor's changed env to the workers under it" {
	seen_worker
	local ini=$BATS_TEST_TMPDIR/t.ini
	printf '[supervisor]\nenv = MODE=one\n[worker w]\ncommand = ./seen.sh\n' >"$ini"
	arbor_bg -c "$ini"
	wait_file "$SEEN"
	assert_equal "$(cat "$SEEN")" "|port=|mode=one|greet="
	rm "$SEEN"
	printf '[supervisor]\nenv = MODE=two\n[worker w]\ncommand = ./seen.sh\n' >"$ini"
	run -0 "$ARBORCTL" reload
	assert_output --regexp 'changed'
	wait_file "$SEEN"
	assert_equal "$(cat "$SEEN")" "|port=|mode=two|greet="
}
