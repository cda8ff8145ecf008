#!/usr/bin/env bats
# A short chaos run (scripts/chaos, issue 8): a tree of nested one_for_all,
# rest_for_one and one_for_one supervisors with 22 workers, arbor as PID 1,
# takes storms of SIGKILLs, SIGSTOP/SIGCONT and workers exiting on their
# own; after each storm the tree must converge whole, with nothing left
# behind, and PID 1's fds and memory flat. `make chaos CHAOS_S=600` is the
# long run.

load helper

@test "chaos: 20 s of storms, the tree converges after each, nothing leaks" {
	TMPDIR=$BATS_TEST_TMPDIR run "$ROOT/scripts/chaos" "${ARBOR_CHAOS_S:-20}" --build "$BUILD"
	assert_success
	assert_output --regexp 'chaos: seed [0-9]+: [1-9][0-9]* storms .* 0 violations'
	refute_output --partial VIOLATION
}

@test "chaos: a tree that does not converge is reported (the check can fail)" {
	# One worker SIGSTOPped for good: the tree never becomes whole again.
	TMPDIR=$BATS_TEST_TMPDIR run "$ROOT/scripts/chaos" 0 --build "$BUILD" --converge 3 --self-test
	assert_failure 1
	# the stopped worker is picked at random: a bash worker or a counter
	assert_output --regexp 'VIOLATION: self-test: stopped: pid [0-9]+ \((w|counter) '
}
