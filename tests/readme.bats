#!/usr/bin/env bats
# The README, as a newcomer reads it: its commands against the demo, run
# line by line as they are written, and its example tree through arbor check.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	[ "$BUILD" = "$ROOT/build" ] || skip "the README's commands name build/"
}

teardown() { arbor_teardown; }

# block MARKER LANG: the lines of the README's first ```LANG block after
# the line matching MARKER.
block() {
	awk -v lang="$2" -v m="$1" '
		index($0, m) { seen = 1; next }
		seen && !on && $0 == "```" lang { on = 1; next }
		on && $0 == "```" { exit }
		on { print }' "$ROOT/README.md"
}

counter_running() {
	"$ARBORCTL" status web/counter --json | jq -e '.state == "running"' >/dev/null
}

@test "readme: every command shown against the demo works as written" {
	block 'tests/readme.bats runs this block' sh >"$T/cmds"
	[ "$(wc -l <"$T/cmds")" -ge 8 ]
	export ARBOR_SOCKET=$T/arbor.sock
	LOG=$T/arbor.log
	cd "$ROOT"
	local line n=0 old=
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		"make run"*)
			# what make run runs, in the background
			$(arbor_cmd) -c conf/demo.ini </dev/null >"$T/arbor.out" 2>"$LOG" &
			ARBOR_PID=$!
			wait_log "$LOG" '^arbor: ready / '
			continue ;;
		*"kill -9"*) old=$("$ARBORCTL" status web/counter --json | jq .pid) ;;
		esac
		run bash -c "$line"
		echo "line $n: $line -> status $status: $output"
		assert_success
		echo "$output" >"$T/out.$n"
		case $line in
		*"kill -9"*)
			wait_until counter_running
			[ "$("$ARBORCTL" status web/counter --json | jq .pid)" != "$old" ] ;;
		*increment*) assert_output 1 ;;
		*get_value*) assert_output 0 ;;
		*"get greeting"*) assert_output hello ;;
		*"status web/counter"*) assert_output --regexp 'web/counter +worker +[0-9]+ +running +permanent +1 ' ;;
		*shutdown*) arbor_wait; assert_equal "$status" 0 ;;
		esac
	done <"$T/cmds"
	grep -q '^arbor: exited web/counter pid=[0-9]* signal=SIGKILL$' "$LOG"
	[ -z "$ARBOR_PID" ]	# the README's last command stopped it
}

@test "readme: the example tree passes arbor check with what it says it needs" {
	command -v nginx >/dev/null || skip "nginx is not installed (make check installs it)"
	block 'A tree:' ini >"$T/arbor.ini"
	grep -q '^\[worker web/endpoint\]' "$T/arbor.ini"
	# without the counter installed, check names what is missing
	if [ ! -e /usr/libexec/arbor/counter ]; then
		run "$ARBOR" check -c "$T/arbor.ini"
		assert_equal "$status" 78
		assert_output --partial /usr/libexec/arbor/counter
	fi
	# with it where make install PREFIX=/usr puts it (in a mount namespace)
	run unshare -m --propagation private sh -c '
		mount -t tmpfs tmpfs /usr/libexec && mkdir /usr/libexec/arbor &&
		cp "$1/counter" /usr/libexec/arbor/ && exec "$2" check -c "$3"' \
		sh "$BUILD" "$ARBOR" "$T/arbor.ini"
	assert_success
	assert_line --partial 'endpoint: worker'
	assert_line --regexp 'ok \(2 supervisors, 2 workers\)'
}

@test "readme: every example tree in conf/ passes arbor check" {
	local f n=0
	for f in "$ROOT"/conf/*.ini; do
		run "$ARBOR" check -c "$f"
		echo "$f: $output"
		assert_success
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}
