#!/usr/bin/env bats
# Calls and casts to every running member of a pool (OTP's multi_call and
# abcast): arborctl call 'POOL/*' and cast 'POOL/*', one line per member.
bats_require_minimum_version 1.5.0
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	cat >"$INI" <<-EOF
		[supervisor]
		intensity = 1000
		period = 5

		[worker pool]
		command = $WORKERS/counter
		genserver = yes
		instances = 3

		[worker solo]
		command = $WORKERS/counter
		genserver = yes

		[supervisor sub]
	EOF
	arbor_bg -c "$INI"
	wait_log "$LOG" '^arbor: ready '
}

teardown() {
	[ -z "${FROZEN:-}" ] || kill -CONT "$FROZEN" 2>/dev/null || true
	arbor_teardown
}

ctl() { "$ARBORCTL" "$@"; }

# host_pid PATH: PATH's pid as seen from here, found by its NSpid.
host_pid() {
	local inner
	inner=$(ctl status "$1" --json | jq -er 'select(.state == "running") | .pid') || return 1
	outer_pid "$inner"
}

@test "call 'pool/*' answers a line per member; cast 'pool/*' reaches each" {
	run ctl call 'pool/*' increment
	assert_success
	assert_output $'pool/1: 1\npool/2: 1\npool/3: 1'
	run ctl cast 'pool/*' increment
	assert_success
	assert_output $'pool/1: ok\npool/2: ok\npool/3: ok'
	for i in 1 2 3; do
		wait_until eval "[ \"\$(ctl call pool/$i get_value)\" = 2 ]"
	done
	run ctl call '/pool/*' "add 5"
	assert_success
	assert_output $'pool/1: 7\npool/2: 7\npool/3: 7'
}

@test "call 'pool/*' reaches only running members, and fails when a member fails" {
	ctl stop pool/2
	run ctl call 'pool/*' get_value
	assert_success
	assert_output $'pool/1: 0\npool/3: 0'
	run ctl call 'pool/*' bogus
	[ "$status" = 1 ]
	assert_output $'pool/1: error: unknown request: bogus\npool/3: error: unknown request: bogus'
	ctl stop pool/1
	ctl stop pool/3
	run ctl call 'pool/*' get_value
	[ "$status" = 1 ]
	assert_output --partial "noproc: no member of the pool is running"
}

@test "call 'pool/*' with a frozen member reports its timeout and the others' replies" {
	FROZEN=$(host_pid pool/2)
	kill -STOP "$FROZEN"
	run ctl call 'pool/*' increment --timeout 300
	[ "$status" = 1 ]
	assert_output $'pool/1: 1\npool/2: error: timeout\npool/3: 1'
	kill -CONT "$FROZEN"
	FROZEN=
	# its late reply is dropped; it answers the next call
	wait_until eval "[ \"\$(ctl call pool/2 get_value)\" = 1 ]"
}

@test "'*' on a path that is not a pool is refused" {
	run ctl call 'solo/*' get_value
	[ "$status" = 1 ]
	assert_output "arborctl: not a pool: solo (POOL/* names a pool's members)"
	run ctl cast 'sub/*' increment
	[ "$status" = 1 ]
	assert_output "arborctl: not a pool: sub (POOL/* names a pool's members)"
	run ctl call '/*' get_value
	[ "$status" = 1 ]
	assert_output "arborctl: not a pool: / (POOL/* names a pool's members)"
	run ctl call 'nope/*' get_value
	[ "$status" = 1 ]
	assert_output "arborctl: no such child: nope/*"
}

@test "delete stops a running pool member and removes it; start brings it back" {
	local pid
	pid=$(host_pid pool/2)
	run ctl delete pool/2
	assert_success
	wait_gone "$pid"
	wait_log "$LOG" '^arbor: deleted pool/2'
	run ctl status
	refute_output --partial pool/2
	[ "$(ctl status pool --json | jq -c '[.children[].path]')" = '["pool/1","pool/3"]' ]
	run ctl call 'pool/*' get_value
	assert_output $'pool/1: 0\npool/3: 0'
	run ctl call pool/2 get_value
	[ "$status" = 1 ]
	assert_output "arborctl: no such child: pool/2"
	run ctl delete pool/2
	[ "$status" = 1 ]
	assert_output "arborctl: no such child: pool/2"
	ctl start pool/2
	answers_running() { [ "$(ctl call pool/2 get_value)" = 0 ]; }
	wait_until answers_running
	# a member started at run time is deleted the same way
	ctl start pool/9
	ctl delete pool/9
	run ctl status pool/9
	[ "$status" = 1 ]
}

@test "delete refuses what is not a pool member" {
	run ctl delete solo
	[ "$status" = 1 ]
	assert_output "arborctl: not a pool member: solo (delete removes a member of a pool; stop stops any child)"
	run ctl delete /
	[ "$status" = 1 ]
	assert_output "arborctl: not a pool member: / (delete removes a member of a pool; stop stops any child)"
	run ctl delete pool
	[ "$status" = 1 ]
	assert_output --partial "not a pool member: pool"
	run ctl delete nope/1
	[ "$status" = 1 ]
	assert_output "arborctl: no such child: nope/1"
	run ctl status solo --json
	[ "$(jq -r .state <<<"$output")" = running ]
}

@test "a reload starts again a deleted member of the file, and status shows it" {
	ctl delete pool/3
	run ctl status pool/3
	[ "$status" = 1 ]
	ctl reload
	wait_until eval "[ \"\$(ctl status pool/3 --json | jq -r .state)\" = running ]"
	[ "$(ctl status pool --json | jq -c '[.children[].path]')" = '["pool/1","pool/2","pool/3"]' ]
	run ctl call 'pool/*' get_value
	assert_output $'pool/1: 0\npool/2: 0\npool/3: 0'
}
