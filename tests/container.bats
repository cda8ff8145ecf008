#!/usr/bin/env bats
# arbor shipped as a container's init: the control socket's default for a
# non-root uid, then a real container runtime (podman with runc) running an
# image made from nothing but the static binaries, busybox, /etc/passwd,
# /etc/group and an INI file, with arbor as PID 1.

load helper

# A uid of this run's own: tests of other checkouts may run at once, and
# the per-uid socket directory is named after it.
TUID=$((20000 + $$ % 20000))
IMAGE=localhost/arbor-test-$$:latest
NAME=arbor-test-$$

# ---- the default control socket (no container needed) ----

# A directory any uid may read, holding copies of the binaries: the
# checkout may sit in /root, mode 700.
socket_setup() {
	S=$(mktemp -d /tmp/arbor-sock.XXXXXX)
	chmod 755 "$S"
	cp "$ARBOR" "$ARBORCTL" "$S/"
	printf '[worker w]\ncommand = /bin/sleep 1000000\n' >"$S/tree.ini"
	chmod 644 "$S/tree.ini"
	unset ARBOR_SOCKET
	rm -rf "/tmp/arbor-$TUID"
}

# as_tuid CMD...: CMD as uid and gid TUID, no other group.
as_tuid() { setpriv --reuid "$TUID" --regid "$TUID" --clear-groups "$@"; }

# Starts arbor as TUID, as PID 1 of a new PID namespace.
tuid_arbor_bg() {
	LOG=$S/arbor.log
	unshare -pf --mount-proc setpriv --reuid "$TUID" --regid "$TUID" --clear-groups \
		"$S/arbor" -c "$S/tree.ini" </dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
}

teardown() {
	arbor_teardown || true
	[ -z "${S:-}" ] || rm -rf "$S" "/tmp/arbor-$TUID"
}

@test "socket: a non-root arbor makes /tmp/arbor-UID/arbor.sock (0700), arborctl finds it" {
	socket_setup
	tuid_arbor_bg
	wait_log "$LOG" "ready"
	wait_until as_tuid "$S/arborctl" ping
	[ -S "/tmp/arbor-$TUID/arbor.sock" ]
	assert_equal "$(stat -c '%a %u' "/tmp/arbor-$TUID")" "700 $TUID"
	assert_equal "$(stat -c '%a %u' "/tmp/arbor-$TUID/arbor.sock")" "600 $TUID"
	run as_tuid "$S/arborctl" status w
	assert_success
	assert_output --partial running
	kill -TERM "$(arbor_inner_pid)"
	arbor_wait
	assert_equal "$status" 0
	[ ! -e "/tmp/arbor-$TUID/arbor.sock" ]
}

@test "socket: a per-uid directory that is not the uid's alone is refused, logged, and ping says so" {
	socket_setup
	mkdir -m 777 "/tmp/arbor-$TUID"	# anyone could plant a socket here
	tuid_arbor_bg
	wait_log "$LOG" "ready"
	assert_regex "$(cat "$LOG")" "control socket /tmp/arbor-$TUID/arbor.sock: /tmp/arbor-$TUID is not a directory of uid $TUID's alone"
	assert_regex "$(cat "$LOG")" "error: no control socket: arborctl cannot reach this arbor at /tmp/arbor-$TUID/arbor.sock"
	[ ! -e "/tmp/arbor-$TUID/arbor.sock" ]
	run as_tuid "$S/arborctl" ping
	assert_equal "$status" 2
	assert_output "arborctl: cannot connect to /tmp/arbor-$TUID/arbor.sock: No such file or directory (is arbor running? if it is, it could not make this socket and its log says why)"
}

@test "socket: a control_socket that cannot be made is an error in the log; arbor runs on" {
	socket_setup
	printf '[arbor]\ncontrol_socket = /proc/arbor-nowhere/arbor.sock\n' >"$S/tree.ini"
	printf '[worker w]\ncommand = /bin/sleep 1000000\n' >>"$S/tree.ini"
	arbor_bg -c "$S/tree.ini"
	wait_log "$LOG" "ready"
	assert_regex "$(cat "$LOG")" "control socket /proc/arbor-nowhere/arbor.sock: bind: No such file or directory"
	assert_regex "$(cat "$LOG")" "error: no control socket: arborctl cannot reach this arbor at /proc/arbor-nowhere/arbor.sock"
	run "$ARBORCTL" -S /proc/arbor-nowhere/arbor.sock ping
	assert_equal "$status" 2
	assert_output --partial "its log says why"
}

@test "socket: arborctl as root looks in /run/arbor.sock, as another uid in /tmp/arbor-UID" {
	socket_setup
	run env -u ARBOR_SOCKET "$ARBORCTL" ping
	[ "$status" -eq 0 ] || assert_output --partial "cannot connect to /run/arbor.sock:"
	run as_tuid env -u ARBOR_SOCKET "$S/arborctl" ping
	assert_equal "$status" 2
	assert_output --partial "cannot connect to /tmp/arbor-$TUID/arbor.sock:"
	run as_tuid env ARBOR_SOCKET="$S/x.sock" "$S/arborctl" ping
	assert_output --partial "cannot connect to $S/x.sock:"
}
