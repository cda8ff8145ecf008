# Shared by every bats suite: where the binaries are, and how to wait for an
# event (a file, a log line, a process state) without ever sleeping blindly.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROOT=${ARBOR_ROOT:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
BUILD=${ARBOR_BUILD:-$ROOT/build}
ARBOR=$BUILD/arbor
ARBORCTL=$BUILD/arborctl
FIXTURES=$ROOT/tests/fixtures
FIXBIN=$BUILD/fixtures
WORKERS=$BUILD
TIMEOUT=${ARBOR_TEST_TIMEOUT:-20}

# arbor under valgrind when the suite runs with VALGRIND=1.
arbor_cmd() {
	if [ -n "${ARBOR_VALGRIND:-}" ]; then
		echo valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
			--error-exitcode=99 --trace-children=no \
			--log-file="$BATS_TEST_TMPDIR/valgrind.%p.log" "$ARBOR"
	else
		echo "$ARBOR"
	fi
}

# sanitized: the binaries were built with SANITIZE=1 (ASan cannot run
# under valgrind, and its own leak check replaces valgrind's).
sanitized() { grep -q fsanitize "$BUILD/.flags" 2>/dev/null; }

# wait_until CMD...: runs CMD until it succeeds, for at most $TIMEOUT seconds.
wait_until() {
	local end=$((SECONDS + TIMEOUT))
	until "$@" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			echo "timed out after ${TIMEOUT}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_file FILE: until FILE exists and is not empty.
wait_file() { wait_until test -s "$1"; }

# wait_size FILE BYTES: until FILE holds more than BYTES.
wait_size() { wait_until eval "[ \"\$(stat -c %s '$1')\" -gt $2 ]"; }

# wait_count FILE PATTERN N: until N lines of FILE (exactly) match the
# extended regex.
wait_count() { wait_until eval "[ \"\$(grep -Ec -- '$2' '$1')\" -eq $3 ]"; }

# wait_log FILE PATTERN: until a line of FILE matches the extended regex.
wait_log() { wait_until grep -Eq -- "$2" "$1"; }

# wait_gone PID: until the process is gone (or a zombie nobody reaps yet).
wait_gone() {
	wait_until bash -c "! kill -0 $1 || grep -q '^State:.*Z' /proc/$1/status"
}

# count_log FILE PATTERN: how many lines match.
count_log() { grep -Ec -- "$2" "$1" || true; }

# arbor_bg ARGS...: starts arbor as PID 1 of a new PID namespace in the
# background, its stderr in $BATS_TEST_TMPDIR/arbor.log. Sets ARBOR_PID (the
# unshare process) and ARBOR_SOCKET (a private control socket).
arbor_bg() {
	export ARBOR_SOCKET=$BATS_TEST_TMPDIR/arbor.sock
	LOG=$BATS_TEST_TMPDIR/arbor.log
	unshare -pf --mount-proc $(arbor_cmd) "$@" </dev/null >"$BATS_TEST_TMPDIR/arbor.out" 2>"$LOG" &
	ARBOR_PID=$!
}

# The pid of arbor itself (PID 1 inside), seen from outside.
arbor_inner_pid() { pgrep -P "$ARBOR_PID" | head -n1; }

# outer_pid PID: the pid, seen from here, of the namespace's process PID.
outer_pid() {
	local inner ns f o
	inner=$(arbor_inner_pid)
	[ -n "$inner" ] || return 1
	[ "$1" = 1 ] && { echo "$inner"; return; }
	ns=$(readlink "/proc/$inner/ns/pid")
	for f in $(grep -lE "^NSpid:.*[[:space:]]$1\$" /proc/[0-9]*/status 2>/dev/null); do
		o=${f#/proc/}
		o=${o%/status}
		if [ "$(readlink "/proc/$o/ns/pid" 2>/dev/null)" = "$ns" ]; then
			echo "$o"
			return
		fi
	done
	return 1
}

# arbor_wait: waits for the background arbor to exit; its status in $status.
arbor_wait() {
	local end=$((SECONDS + TIMEOUT))
	while kill -0 "$ARBOR_PID" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			echo "arbor did not exit within ${TIMEOUT}s" >&2
			return 1
		fi
		sleep 0.02
	done
	status=0
	wait "$ARBOR_PID" || status=$?
	ARBOR_PID=
}

# With VALGRIND=1: every error valgrind reported for arbor fails the test.
valgrind_verdict() {
	local f
	[ -n "${ARBOR_VALGRIND:-}" ] || return 0
	for f in "$BATS_TEST_TMPDIR"/valgrind.*.log; do
		[ -s "$f" ] || continue
		if grep -q 'ERROR SUMMARY: [1-9]\|Invalid \|definitely lost: [1-9]' "$f"; then
			cat "$f" >&2
			return 1
		fi
	done
}

# readable_copy FILE: prints the path of a copy of FILE that every user can
# read and run, for a worker run as another user: the checkout itself may
# be closed to them (a clone in /root, mode 0700). The copy lives in
# /tmp/arbor-pub.$$ (mode 0755), removed by arbor_teardown.
readable_copy() {
	local d=/tmp/arbor-pub.$$
	mkdir -p "$d" && chmod 0755 "$d" && cp "$1" "$d/" &&
		chmod a+rX "$d/${1##*/}" && echo "$d/${1##*/}"
}

# Stops whatever a test left running.
arbor_teardown() {
	rm -rf "/tmp/arbor-pub.$$"
	if [ -n "${ARBOR_PID:-}" ] && kill -0 "$ARBOR_PID" 2>/dev/null; then
		local inner
		inner=$(arbor_inner_pid)
		[ -n "$inner" ] && kill -KILL "$inner" 2>/dev/null
		kill -KILL "$ARBOR_PID" 2>/dev/null
		wait "$ARBOR_PID" 2>/dev/null
	fi
	valgrind_verdict
}
