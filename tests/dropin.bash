# The checks of `arbor -- CMD ARGS...` (the drop-in for `tini --`), shared by
# pid1.bats (arbor as PID 1 of a new PID namespace) and subreaper.bats (arbor
# as a child subreaper, not PID 1). A suite calls dropin_mode first; every
# check then runs arbor the suite's way:
#
#   "${NS[@]}" "${ARB[@]}" ARGS...     arbor in the foreground
#   dropin_bg ARGS...                  arbor in the background under a parent
#                                      (ARBOR_PID) that the test may kill
#   arbor_pid                          arbor's own pid, seen from here
#
# shellcheck disable=SC2154 # $output, $stderr, $status: set by bats' run
# shellcheck disable=SC2016 # $$ and $1 in sh -c '...' are CMD's own
bats_require_minimum_version 1.5.0

PY=${PYTHON:-python3}

# dropin_mode pid1|subreaper: how this suite runs arbor.
dropin_mode() {
	MODE=$1
	read -ra ARB <<<"$(arbor_cmd)"
	if [ "$MODE" = pid1 ]; then
		NS=(unshare -pf --mount-proc)
		BG_PARENT=(unshare -pf --mount-proc)
	else
		NS=()
		# A parent of arbor's that a test can kill (-p), and that
		# passes arbor's exit status on.
		BG_PARENT=(bash -c '"$@" & wait $!' bash)
	fi
	REC=$BATS_TEST_TMPDIR/rec
	# The signal-recording fixture, writing to $REC.
	SIGREC=("$PY" "$FIXTURES/sigrec.py" "$REC")
	KILL_LIST=$BATS_TEST_TMPDIR/kill-list
}

# dropin_bg ARGS...: starts arbor ARGS in the background, its stderr in $LOG,
# with default signal dispositions and only fds 0-2 (a shell's `&` ignores
# INT and QUIT, and bats leaks fds): what a container runtime hands PID 1.
dropin_bg() {
	LOG=$BATS_TEST_TMPDIR/arbor.log
	"${BG_PARENT[@]}" "$PY" "$FIXTURES/exec-with.py" -- "${ARB[@]}" "$@" \
		</dev/null >"$BATS_TEST_TMPDIR/arbor.out" 2>"$LOG" 3>&- &
	ARBOR_PID=$!
}

# dropin_wait: waits (bounded) for the background arbor's parent to exit,
# which passes arbor's status on; the status in $status.
dropin_wait() {
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

# arbor_pid: the pid of arbor itself, once its parent has started it.
arbor_pid() {
	wait_until pgrep -P "$ARBOR_PID" >/dev/null
	pgrep -P "$ARBOR_PID" | head -n1
}

# kill_at_teardown PID...: processes a failing test could leave behind.
kill_at_teardown() { echo "$@" >>"$KILL_LIST"; }

# descendants PID: PID's children, grandchildren... (for the teardown).
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}

# Kills what a test left running, CMD included (outside a PID namespace,
# killing arbor does not take CMD with it).
dropin_teardown() {
	local pids=''
	[ -s "$KILL_LIST" ] && pids=$(cat "$KILL_LIST")
	if [ -n "${ARBOR_PID:-}" ] && kill -0 "$ARBOR_PID" 2>/dev/null; then
		pids+=" $(descendants "$ARBOR_PID") $ARBOR_PID"
	fi
	if [ -n "${pids// /}" ]; then
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
	fi
	if [ -n "${ARBOR_PID:-}" ]; then
		wait "$ARBOR_PID" 2>/dev/null
	fi
	true
}

# ctxt_switches PID: voluntary plus involuntary context switches so far.
ctxt_switches() {
	awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' \
		"/proc/$1/status"
}

# ctxt_still PID: true when PID was not scheduled for 300 ms.
ctxt_still() {
	local a
	a=$(ctxt_switches "$1")
	sleep 0.3
	[ "$a" = "$(ctxt_switches "$1")" ]
}

# stderr_names WORD: a line of $stderr (from run --separate-stderr) starts with
# "arbor:" and names WORD.
stderr_names() {
	if ! grep '^arbor: ' <<<"$stderr" | grep -qF -- "$1"; then
		echo "no line 'arbor: ...$1...' on stderr"
		return 1
	fi
}

# std_sigs: $output's SigBlk/SigIgn lines with the standard signals 1-31
# only: the real-time ones a test harness may leave ignored (glibc's 32 and
# 33, which Python cannot reset) pass on to CMD too, as they should.
std_sigs() {
	local k v
	while read -r k v; do
		printf '%s\t%016x\n' "$k" $((16#$v & 0x7fffffff))
	done <<<"$output"
}

# --- the checks -------------------------------------------------------------

# Every status 0-255 of CMD comes back as arbor's own.
check_exit_statuses() {
	local i rc bad='' all
	all=$(seq 0 255)
	# 256 runs under valgrind take minutes: a sample says enough there.
	[ -n "${ARBOR_VALGRIND:-}" ] && all="0 1 2 3 64 126 127 128 129 143 254 255"
	for i in $all; do
		rc=0
		"${NS[@]}" "${ARB[@]}" -- sh -c "exit $i" </dev/null || rc=$?
		[ "$rc" -eq "$i" ] || bad+=" $i->$rc"
	done
	if [ -n "$bad" ]; then
		echo "CMD's status -> arbor's:$bad"
		return 1
	fi
}

# A CMD that dies by signal N makes arbor exit 128+N.
check_signal_deaths() {
	local sig rc bad=''
	for sig in TERM HUP QUIT KILL SEGV INT USR1; do
		rc=0
		"${NS[@]}" "${ARB[@]}" -- sh -c "ulimit -c 0; kill -$sig \$\$; exit 0" \
			</dev/null 2>/dev/null || rc=$?
		[ "$rc" -eq $((128 + $(kill -l "$sig"))) ] || bad+=" $sig->$rc"
	done
	if [ -n "$bad" ]; then
		echo "CMD's death -> arbor's status:$bad"
		return 1
	fi
}

# A program that does not exist: 127, and a message that names it.
check_missing_program() {
	local prog=$BATS_TEST_TMPDIR/no-such-program
	run -127 --separate-stderr "${NS[@]}" "${ARB[@]}" -- "$prog" arg
	echo "stderr: $stderr"
	assert_equal "$status" 127
	stderr_names "$prog"
	run -127 --separate-stderr "${NS[@]}" "${ARB[@]}" -- no-such-program-in-path
	echo "stderr: $stderr"
	assert_equal "$status" 127
	stderr_names no-such-program-in-path
	stderr_names 'check the program'"'"'s name and $PATH'
}

# A file that cannot be executed (no x bit; a directory): 126, and a message
# that names it.
check_not_executable() {
	local f=$BATS_TEST_TMPDIR/not-executable d=$BATS_TEST_TMPDIR/a-directory
	printf '#!/bin/sh\nexit 0\n' >"$f"
	chmod 0644 "$f"
	mkdir "$d"
	run -126 --separate-stderr "${NS[@]}" "${ARB[@]}" -- "$f"
	echo "stderr: $stderr"
	assert_equal "$status" 126
	stderr_names "$f"
	run -126 --separate-stderr "${NS[@]}" "${ARB[@]}" -- "$d"
	echo "stderr: $stderr"
	assert_equal "$status" 126
	stderr_names "$d"
	stderr_names "check that it is an executable file"
}

# 100 orphans adopted by arbor (PID 1 or subreaper) are all reaped, even
# when they die at once. orphans.py checks the adoption and waits (bounded)
# until none is left; as PID 1 it also scans the namespace for any zombie.
check_orphans() {
	local all=
	[ "$MODE" = pid1 ] && all=--all
	run --separate-stderr "${NS[@]}" "${ARB[@]}" -- \
		env TIMEOUT="$TIMEOUT" "$PY" "$FIXTURES/orphans.py" 100 $all
	echo "stderr: $stderr"
	assert_success
	assert_output "reaped 100"
}

# check_forwarded SIG...: each SIG sent to arbor reaches CMD, once, in order,
# and none of them stops it; TERM at the end stops it, and since CMD catches
# TERM and exits 0, arbor exits 0.
check_forwarded() {
	local pid sig want=''
	dropin_bg -- "${SIGREC[@]}"
	wait_file "$REC.cmd.ready"
	pid=$(arbor_pid)
	for sig in "$@"; do
		kill -s "$sig" "$pid"
		wait_log "$REC" "^cmd $sig\$"
		want+="cmd $sig"$'\n'
	done
	kill -0 "$pid"
	kill -TERM "$pid"
	dropin_wait
	assert_equal "$status" 0
	assert_equal "$(cat "$REC")" "${want}cmd TERM"
}

# check_stop SIG: SIG sent to arbor reaches a CMD that does not catch it, and
# arbor exits with CMD's status, 128+SIG.
check_stop() {
	local pid
	dropin_bg -- sleep 1000
	pid=$(arbor_pid)
	wait_until pgrep -x sleep -P "$pid" >/dev/null
	kill -s "$1" "$pid"
	dropin_wait
	assert_equal "$status" $((128 + $(kill -l "$1")))
}

# A CMD that handles TERM and stays up gets each TERM and is not killed by
# arbor (tini's way: the runtime owns the grace period); arbor ends when CMD
# does, with its status (here 128+9, killed from outside).
check_waits_for_cmd() {
	local pid cmd
	dropin_bg -- "${SIGREC[@]}" --stay
	wait_file "$REC.cmd.ready"
	pid=$(arbor_pid)
	cmd=$(pgrep -P "$pid")
	kill -TERM "$pid"
	wait_count "$REC" "^cmd TERM$" 1
	kill -TERM "$pid"
	wait_count "$REC" "^cmd TERM$" 2
	kill -0 "$pid"
	kill -0 "$cmd"
	kill -KILL "$cmd"
	dropin_wait
	assert_equal "$status" 137
}

# -g: a signal to arbor reaches CMD's whole process group.
check_group() {
	local pid
	dropin_bg -g -- "${SIGREC[@]}" --child
	wait_file "$REC.cmd.ready"
	wait_file "$REC.child.ready"
	pid=$(arbor_pid)
	kill -USR1 "$pid"
	wait_log "$REC" "^cmd USR1$"
	wait_log "$REC" "^child USR1$"
	# The stop goes to the group too, but as PID 1 arbor leaves with CMD
	# and the kernel kills the child before it may write it down.
	kill -TERM "$pid"
	dropin_wait
	assert_equal "$status" 0
}

# Without -g, the signal goes to CMD alone, not to its children.
check_no_group() {
	local pid child
	dropin_bg -- "${SIGREC[@]}" --child
	wait_file "$REC.cmd.ready"
	wait_file "$REC.child.ready"
	pid=$(arbor_pid)
	# Pids as seen from here (the ready files hold the namespace's).
	child=$(pgrep -P "$(pgrep -P "$pid")")
	kill_at_teardown "$child"
	kill -USR1 "$pid"
	wait_log "$REC" "^cmd USR1$"
	# USR2 straight to the child: had USR1 reached it, its lower number
	# would have been handled first.
	kill -USR2 "$child"
	wait_log "$REC" "^child USR2$"
	refute grep -q "^child USR1$" "$REC"
	kill -TERM "$pid"
	dropin_wait
	assert_equal "$status" 0
}

# -e CODE: CMD's exit CODE counts as 0; other codes pass through.
check_expect_code() {
	run "${NS[@]}" "${ARB[@]}" -e 3 -- sh -c 'exit 3'
	assert_equal "$status" 0
	run "${NS[@]}" "${ARB[@]}" -e 3 -- sh -c 'exit 4'
	assert_equal "$status" 4
	run "${NS[@]}" "${ARB[@]}" -e 3 -e 4 -- sh -c 'exit 4'
	assert_equal "$status" 0
}

# -p SIG: when arbor's parent dies, arbor gets SIG (here USR1, which it
# passes on to CMD).
check_parent_death() {
	local pid
	dropin_bg -p SIGUSR1 -- "${SIGREC[@]}"
	wait_file "$REC.cmd.ready"
	pid=$(arbor_pid)
	kill_at_teardown "$pid"
	kill -KILL "$ARBOR_PID"
	wait "$ARBOR_PID" || true
	ARBOR_PID=
	wait_log "$REC" "^cmd USR1$"
	kill -TERM "$pid"
	wait_gone "$pid"
	assert_equal "$(cat "$REC")" $'cmd USR1\ncmd TERM'
}

# stdin passes through to CMD.
check_stdin() {
	run --separate-stderr "${NS[@]}" "${ARB[@]}" -- cat <<<"hi"
	assert_success
	assert_output "hi"
}

# CMD of an arbor started with no blocked and no ignored signal has none:
# arbor's own (PIPE, TTIN, TTOU ignored, the rest blocked) stay its own.
check_signal_mask() {
	run --separate-stderr "${NS[@]}" "$PY" "$FIXTURES/exec-with.py" -- "${ARB[@]}" -- \
		grep -E '^Sig(Blk|Ign):' /proc/self/status
	assert_success
	output=$(std_sigs)
	assert_output $'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000'
}

# ... and with the mask and ignored signals arbor itself was started with,
# as tini's CMD (its sigconf test): blocked HUP, USR1, TERM, CHLD; ignored
# HUP, INT, QUIT, USR2, PIPE. arbor still sees TERM and CHLD.
check_signal_mask_inherited() {
	run --separate-stderr "${NS[@]}" "$PY" "$FIXTURES/exec-with.py" \
		--block USR1,HUP,TERM,CHLD --ignore INT,QUIT,PIPE,USR2,HUP -- \
		"${ARB[@]}" -- grep -E '^Sig(Blk|Ign):' /proc/self/status
	assert_success
	output=$(std_sigs)
	assert_output $'SigBlk:\t0000000000014201\nSigIgn:\t0000000000001807'
}

# CMD gets none of arbor's own fds (signalfd, epoll, timerfd...): only 0-2
# and fd 7, which arbor's parent left open for it. ls's own fd on
# /proc/N/fd is left out.
check_fds() {
	[ -z "${ARBOR_VALGRIND:-}" ] || skip "valgrind keeps fds of its own open in CMD"
	local fds
	run --separate-stderr "${NS[@]}" "$PY" "$FIXTURES/exec-with.py" --fds 7 -- \
		"${ARB[@]}" -- ls -l /proc/self/fd 7</dev/null
	assert_success
	fds=$(awk '$(NF-1) == "->" && $NF !~ "^/proc/[0-9]+/fd$" { print $(NF-2) }' \
		<<<"$output" | sort -n | xargs)
	assert_equal "$fds" "0 1 2 7"
}

# arbor started with fds 0-2 closed opens them (on /dev/null) before anything
# else takes those numbers: CMD has 0, 1 and 2.
check_closed_stdio() {
	local out=$BATS_TEST_TMPDIR/fds rc=0
	[ -n "${ARBOR_VALGRIND:-}" ] && skip "valgrind itself needs fd 2 open"
	"${NS[@]}" sh -c 'exec "$@" <&- >&- 2>&-' sh "${ARB[@]}" -v -- \
		sh -c 'ls /proc/$$/fd >"$1"; true' sh "$out" || rc=$?
	assert_equal "$rc" 0
	run grep -cxE '[012]' "$out"
	assert_output 3
}

# With a terminal on stdin, CMD leads its own process group and that group is
# the terminal's foreground one (what makes `arbor -- bash` interactive).
check_terminal_foreground() {
	local cmd pid pgid tpgid
	cmd=$(printf '%q ' "${NS[@]}" "${ARB[@]}" -- \
		sh -c 'ps -o pid=,pgid=,tpgid= -p $$')
	run timeout "$TIMEOUT" script -qec "$cmd" /dev/null </dev/null
	assert_success
	read -r pid pgid tpgid <<<"$(tr -d '\r' <<<"$output" | grep -E '^ *[0-9]' | tail -n1)"
	echo "pid=$pid pgid=$pgid tpgid=$tpgid"
	[ -n "$pid" ]
	assert_equal "$pgid" "$pid"
	assert_equal "$tpgid" "$pgid"
}

# `arbor -- bash -i` on a terminal: bash gets job control, runs what is typed,
# and its exit status comes back.
check_interactive_bash() {
	local cmd
	cmd=$(printf '%q ' "${NS[@]}" "${ARB[@]}" -- bash --norc --noprofile -i)
	run env HISTFILE=/dev/null timeout "$TIMEOUT" script -qec "$cmd" /dev/null \
		<<<$'echo ans=$((6 * 7))\nexit 5'
	assert_equal "$status" 5
	assert_output --partial "ans=42"
	refute_output --partial "no job control"
}

# arbor waiting for CMD is not scheduled at all: no timer, no polling. Here
# the time window is the measurement itself.
check_idle() {
	local pid a b
	[ -n "${ARBOR_VALGRIND:-}" ] && skip "valgrind schedules on its own"
	dropin_bg -- sleep 1000
	pid=$(arbor_pid)
	wait_until pgrep -x sleep -P "$pid" >/dev/null
	wait_until ctxt_still "$pid"
	a=$(ctxt_switches "$pid")
	sleep 1.5
	b=$(ctxt_switches "$pid")
	assert_equal "context switches $b" "context switches $a"
}

# No leak, no invalid access on `arbor -- true`.
check_valgrind() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	sanitized && skip "an ASan build cannot run under valgrind"
	# the same objects linked dynamically: valgrind cannot follow a static malloc
	local a=$ARBOR
	[ -x "$BUILD/dyn/arbor" ] && a=$BUILD/dyn/arbor
	run --separate-stderr "${NS[@]}" valgrind --leak-check=full \
		--error-exitcode=99 "$a" -- true
	echo "$stderr"
	assert_success
}
