#!/usr/bin/env bats
# arbor's command line in `--` mode: usage errors exit 64 with a message that
# starts with "arbor:" and says what to do; -h, --version, and tini's flags.

load helper
bats_require_minimum_version 1.5.0

# usage_error ARGS...: arbor ARGS is refused: status 64, nothing on stdout,
# and a message on stderr whose first line starts with "arbor:" and which
# points at the usage (or prints it).
usage_error() {
	run --separate-stderr "$ARBOR" "$@"
	echo "stderr: $stderr"
	assert_equal "$status" 64
	assert_equal "$output" ""
	assert_regex "$(head -n1 <<<"$stderr")" '^arbor: .'
	assert_regex "$stderr" '[Uu]sage|arbor -h|--help'
}

# nlines TEXT: how many lines TEXT has (0 when empty).
nlines() { if [ -z "$1" ]; then echo 0; else wc -l <<<"$1"; fi; }

@test "cli: no arguments is a usage error" {
	usage_error
}

@test "cli: an unknown flag is a usage error that names it" {
	usage_error -x -- true
	assert_regex "$stderr" '-x'
	usage_error --no-such-flag -- true
	assert_regex "$stderr" '--no-such-flag'
}

@test "cli: -e without a number is a usage error" {
	usage_error -e
	usage_error -e -- true
	usage_error -e abc -- true
	usage_error -e '' -- true
	usage_error -e 3x -- true
}

@test "cli: -- with no command is a usage error" {
	usage_error --
	usage_error -g --
}

@test "cli: -p with an unknown signal is a usage error that names it" {
	usage_error -p SIGNOPE -- true
	assert_regex "$stderr" 'SIGNOPE'
}

@test "cli: -h prints the usage on stdout and exits 0" {
	run --separate-stderr "$ARBOR" -h
	assert_success
	assert_equal "$stderr" ""
	assert_output --partial "arbor"
	assert_output --partial "--"
	grep -qE -- '(^| )-e CODE' <<<"$output"
	grep -qE -- '(^| )-p SIG' <<<"$output"
}

@test "cli: --version prints arbor VERSION and exits 0" {
	run --separate-stderr "$ARBOR" --version
	assert_success
	assert_equal "$stderr" ""
	assert_regex "$output" '^arbor [0-9A-Za-z][^ ]*$'
}

@test "cli: -s is accepted (arbor is always a subreaper when not PID 1)" {
	run "$ARBOR" -s -- sh -c 'exit 7'
	assert_equal "$status" 7
}

@test "cli: tini's short flags combine: -sgv -e 5 -p SIGKILL" {
	run "$ARBOR" -sgv -e 5 -p SIGKILL -- sh -c 'exit 5'
	assert_equal "$status" 0
}

@test "cli: -v logs more than without it" {
	run --separate-stderr "$ARBOR" -- true
	assert_success
	local quiet=$stderr
	run --separate-stderr "$ARBOR" -v -- true
	assert_success
	echo "without -v: $quiet"
	echo "with -v: $stderr"
	[ "$(nlines "$stderr")" -gt "$(nlines "$quiet")" ]
}

@test "cli: CMD's arguments are passed as they are, flags included" {
	run --separate-stderr "$ARBOR" -- printf '[%s]' -h --version -- '' 'a b'
	assert_success
	assert_output "[-h][--version][--][][a b]"
}
