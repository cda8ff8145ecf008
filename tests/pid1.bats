#!/usr/bin/env bats
# `arbor -- CMD ARGS...` as PID 1 of a new PID namespace, the way a container
# runs it (ENTRYPOINT ["arbor", "--"]): CMD's status, reaping, signals, tini's
# flags, and what CMD inherits. The checks live in dropin.bash, shared with
# subreaper.bats.

load helper
load dropin

setup() { dropin_mode pid1; }
teardown() { dropin_teardown; }

@test "pid1: CMD's exit statuses 0-255 pass through" { check_exit_statuses; }

@test "pid1: CMD dying by TERM/HUP/QUIT/KILL/SEGV/INT/USR1 gives 128+N" {
	check_signal_deaths
}

@test "pid1: a missing program exits 127 and is named" { check_missing_program; }

@test "pid1: a program that cannot be executed exits 126 and is named" {
	check_not_executable
}

@test "pid1: 100 orphans are reaped and no zombie is left" { check_orphans; }

@test "pid1: TERM, USR1 and USR2 sent to arbor reach CMD" {
	check_forwarded USR1 USR2
}

@test "pid1: HUP, WINCH, ALRM, CONT, PIPE, URG, VTALRM reach CMD and do not stop it" {
	check_forwarded HUP WINCH ALRM CONT PIPE URG VTALRM
}

@test "pid1: TERM stops CMD and arbor exits with its status" { check_stop TERM; }

@test "pid1: INT stops CMD and arbor exits with its status" { check_stop INT; }

@test "pid1: QUIT stops CMD and arbor exits with its status" { check_stop QUIT; }

@test "pid1: a CMD that handles TERM and stays up gets each TERM and is not killed" {
	check_waits_for_cmd
}

@test "pid1: -g signals CMD's whole process group" { check_group; }

@test "pid1: without -g only CMD is signalled" { check_no_group; }

@test "pid1: -e CODE makes CMD's CODE a clean exit" { check_expect_code; }

@test "pid1: -p SIG: arbor gets SIG when its parent dies" { check_parent_death; }

@test "pid1: stdin passes through to CMD" { check_stdin; }

@test "pid1: a CMD of a clean arbor starts with no blocked or ignored signal" { check_signal_mask; }

@test "pid1: CMD inherits the mask and ignored signals arbor was started with" {
	check_signal_mask_inherited
}

@test "pid1: CMD gets none of arbor's own fds" { check_fds; }

@test "pid1: arbor started with fds 0-2 closed opens them" { check_closed_stdio; }

@test "pid1: on a terminal CMD is the foreground process group" {
	check_terminal_foreground
}

@test "pid1: arbor -- bash is usable interactively" { check_interactive_bash; }

@test "pid1: arbor uses no CPU while idle" { check_idle; }

@test "pid1: valgrind finds no leak on arbor -- true" { check_valgrind; }
