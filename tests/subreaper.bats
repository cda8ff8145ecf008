#!/usr/bin/env bats
# `arbor -- CMD ARGS...` when it is not PID 1: arbor makes itself a child
# subreaper (silently), so orphans come to it and it reaps them; everything
# else behaves as in pid1.bats. The checks live in dropin.bash.

load helper
load dropin

setup() { dropin_mode subreaper; }
teardown() { dropin_teardown; }

@test "subreaper: an orphan of CMD's is adopted and reaped by arbor" {
	local pid orphan
	dropin_bg -- sh -c '(sleep 1000 & echo $! >"$1") ; exec sleep 1000' sh \
		"$BATS_TEST_TMPDIR/orphan"
	wait_file "$BATS_TEST_TMPDIR/orphan"
	orphan=$(cat "$BATS_TEST_TMPDIR/orphan")
	kill_at_teardown "$orphan"
	pid=$(arbor_pid)
	wait_until grep -qx "PPid:[[:space:]]*$pid" "/proc/$orphan/status"
	kill -KILL "$orphan"
	wait_until test ! -e "/proc/$orphan"
	kill -TERM "$pid"
	dropin_wait
	assert_equal "$status" 143
}

@test "subreaper: nothing is said about not being PID 1" {
	run --separate-stderr "${ARB[@]}" -- true
	assert_success
	echo "stderr: $stderr"
	refute grep -qiE 'subreaper|pid ?1|zombie' <<<"$stderr"
}

@test "subreaper: CMD's exit statuses 0-255 pass through" { check_exit_statuses; }

@test "subreaper: CMD dying by TERM/HUP/QUIT/KILL/SEGV/INT/USR1 gives 128+N" {
	check_signal_deaths
}

@test "subreaper: a missing program exits 127 and is named" {
	check_missing_program
}

@test "subreaper: a program that cannot be executed exits 126 and is named" {
	check_not_executable
}

@test "subreaper: 100 orphans are adopted and reaped" { check_orphans; }

@test "subreaper: TERM, USR1 and USR2 sent to arbor reach CMD" {
	check_forwarded USR1 USR2
}

@test "subreaper: HUP, WINCH, ALRM, CONT, PIPE reach CMD and do not stop it" {
	check_forwarded HUP WINCH ALRM CONT PIPE
}

@test "subreaper: TERM stops CMD and arbor exits with its status" {
	check_stop TERM
}

@test "subreaper: a CMD that handles TERM and stays up gets each TERM and is not killed" {
	check_waits_for_cmd
}

@test "subreaper: -g signals CMD's whole process group" { check_group; }

@test "subreaper: without -g only CMD is signalled" { check_no_group; }

@test "subreaper: -e CODE makes CMD's CODE a clean exit" { check_expect_code; }

@test "subreaper: -p SIG: arbor gets SIG when its parent dies" {
	check_parent_death
}

@test "subreaper: stdin passes through to CMD" { check_stdin; }

@test "subreaper: a CMD of a clean arbor starts with no blocked or ignored signal" {
	check_signal_mask
}

@test "subreaper: CMD inherits the mask and ignored signals arbor was started with" {
	check_signal_mask_inherited
}

@test "subreaper: CMD gets none of arbor's own fds" { check_fds; }

@test "subreaper: arbor started with fds 0-2 closed opens them" {
	check_closed_stdio
}

@test "subreaper: on a terminal CMD is the foreground process group" {
	check_terminal_foreground
}

@test "subreaper: arbor -- bash is usable interactively" {
	check_interactive_bash
}

@test "subreaper: arbor uses no CPU while idle" { check_idle; }

@test "subreaper: valgrind finds no leak on arbor -- true" { check_valgrind; }
