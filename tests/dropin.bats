#!/usr/bin/env bats
# `arbor -- CMD` against `tini -- CMD`, case by case: the cases of tini's own
# test suite (exit codes, -e, signals, -g, -p, -s, -w, the variables,
# reaping, the inherited signal configuration) and of dumb-init's (every
# signal, a tty program with job control, a slow drain), each run once with
# arbor and once with Debian's tini (skipped when tini is not installed). A
# case that tini passes, arbor must pass; where the two differ on purpose
# (arbor(8), "Differences from tini"), each has its own test.
#
# shellcheck disable=SC2154 # $output, $stderr, $status: set by bats' run
# shellcheck disable=SC2016 # $$ and $1 in sh -c '...' are CMD's own

load helper
load dropin

# use arbor|tini [pid1|subreaper]: the init this test runs, in "${ARB[@]}",
# as PID 1 of a new PID namespace ("${NS[@]}") or not (the default).
use() {
	dropin_mode "${2:-subreaper}"
	INIT=$1
	if [ "$1" = tini ]; then
		command -v tini >/dev/null || skip "tini is not installed"
		ARB=(tini)
	fi
	ALL=$BATS_TEST_TMPDIR/sigs
	SIGALL=("$PY" "$FIXTURES/sigall.py" "$ALL")
}

teardown() { dropin_teardown; }

# The signals tini forwards: every one from 1 to 31 but KILL and STOP, CHLD
# (which means a death to reap) and those the kernel sends a process for its
# own fault (ILL TRAP ABRT BUS FPE SEGV SYS) or for the tty (TTIN TTOU).
FORWARDED="HUP INT QUIT USR1 USR2 PIPE ALRM TERM STKFLT CONT TSTP URG XCPU XFSZ
VTALRM PROF WINCH IO PWR"

# Each forwarded signal sent to the init reaches CMD (which handles them all
# and stays up), TERM, INT and QUIT twice; nothing else reaches it (no
# SIGCONT after a stop signal); the init is still waiting for CMD at the end,
# and ends with its status.
case_every_signal() {
	local pid cmd sig want='' n=0
	dropin_bg -- "${SIGALL[@]}"
	wait_file "$ALL.ready"
	pid=$(arbor_pid)
	cmd=$(pgrep -P "$pid")
	kill_at_teardown "$cmd"
	for sig in $FORWARDED TERM INT QUIT; do
		kill -s "$sig" "$pid"
		n=$((n + 1))
		want+="$sig"$'\n'
		wait_count "$ALL" . $n
	done
	kill -0 "$pid"
	kill -KILL "$cmd"
	dropin_wait
	assert_equal "$status" 137
	assert_equal "$(cat "$ALL")" "${want%$'\n'}"
}

# tini's exit code test: each status 0-255 of CMD is the init's; -e N maps
# N to 0, and only N.
case_exit_codes() {
	local i rc bad=''
	for i in $(seq 0 255); do
		rc=0
		"${ARB[@]}" -- sh -c "exit $i" 2>/dev/null || rc=$?
		[ "$rc" -eq "$i" ] || bad+=" $i->$rc"
	done
	for i in 0 1 2 64 126 127 128 143 255; do
		rc=0
		"${ARB[@]}" -e "$i" -- sh -c "exit $i" 2>/dev/null || rc=$?
		[ "$rc" -eq 0 ] || bad+=" -e $i: $i->$rc"
		rc=0
		"${ARB[@]}" -e "$i" -- sh -c "exit $(((i + 1) % 256))" 2>/dev/null || rc=$?
		[ "$rc" -eq $(((i + 1) % 256)) ] || bad+=" -e $i: $(((i + 1) % 256))->$rc"
	done
	[ -z "$bad" ] || { echo "$INIT: CMD's status -> the init's:$bad"; return 1; }
}

# A CMD killed by signal N makes the init exit 128+N; -e 128+N maps that to
# 0 as well, and no other death.
case_signal_deaths() {
	local sig n rc bad=''
	for sig in HUP INT QUIT KILL USR1 SEGV USR2 PIPE ALRM TERM; do
		n=$(kill -l "$sig")
		rc=0
		"${ARB[@]}" -- sh -c "ulimit -c 0; kill -$sig \$\$" 2>/dev/null || rc=$?
		[ "$rc" -eq $((128 + n)) ] || bad+=" $sig->$rc"
		rc=0
		"${ARB[@]}" -e $((128 + n)) -- sh -c "ulimit -c 0; kill -$sig \$\$" \
			2>/dev/null || rc=$?
		[ "$rc" -eq 0 ] || bad+=" -e $((128 + n)) $sig->$rc"
	done
	rc=0
	"${ARB[@]}" -e 143 -- sh -c 'kill -KILL $$' 2>/dev/null || rc=$?
	[ "$rc" -eq 137 ] || bad+=" -e 143 KILL->$rc"
	[ -z "$bad" ] || { echo "$INIT: CMD's death -> the init's status:$bad"; return 1; }
}

# CMD of tini's process group test (a shell cannot undo an ignored signal).
# Writes the child's pid to the file $1 once it runs.
PGROUP_CMD='
import os, signal, subprocess, sys
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
p = subprocess.Popen(["sleep", "1000"],
                     preexec_fn=lambda: signal.signal(signal.SIGUSR1, signal.SIG_DFL))
open(sys.argv[1] + ".tmp", "w").write(str(p.pid))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
p.wait()
'

# tini's process group test: CMD ignores USR1 and waits for its child, which
# does not; USR1 to the init (with -g, or TINI_KILL_PROCESS_GROUP) reaches
# the child too, which ends CMD and the init.
case_group() {
	local pid
	dropin_bg "$@" -- "$PY" -c "$PGROUP_CMD" "$BATS_TEST_TMPDIR/child"
	wait_file "$BATS_TEST_TMPDIR/child"
	kill_at_teardown "$(cat "$BATS_TEST_TMPDIR/child")"
	wait_until pgrep -x sleep -P "$(pgrep -P "$(arbor_pid)")" >/dev/null
	pid=$(arbor_pid)
	kill -USR1 "$pid"
	dropin_wait
	assert_equal "$status" 0
}

# tini's parent death test: -p SIGUSR1, the init's parent dies, CMD gets USR1.
case_parent_death() {
	local pid cmd
	dropin_bg -p SIGUSR1 -- "${SIGALL[@]}"
	wait_file "$ALL.ready"
	pid=$(arbor_pid)
	cmd=$(pgrep -P "$pid")
	kill_at_teardown "$pid" "$cmd"
	kill -KILL "$ARBOR_PID"
	wait "$ARBOR_PID" || true
	ARBOR_PID=
	wait_log "$ALL" "^USR1$"
	kill -KILL "$cmd"
	wait_gone "$pid"
	assert_equal "$(cat "$ALL")" "USR1"
}

# tini's reaping test: orphans of CMD's are adopted by the init (PID 1, or a
# subreaper with FLAGS, e.g. -s) and reaped, and CMD's status comes back.
case_reaping() {
	local all=
	[ "$MODE" = pid1 ] && all=--all
	run --separate-stderr "${NS[@]}" "${ARB[@]}" "$@" -- \
		env TIMEOUT="$TIMEOUT" "$PY" "$FIXTURES/orphans.py" 20 $all
	echo "$INIT stderr: $stderr"
	assert_success
	assert_output "reaped 20"
	refute grep -qi "zombie" <<<"$stderr"
}

# tini's reaping display test: with -w each zombie reaped (not CMD) is told
# on stderr; TINI_VERBOSITY=0 silences it.
case_warn_on_reap() {
	local child
	run --separate-stderr "${ARB[@]}" -s -w -- \
		sh -c '(sleep 0.1 & echo $! >"$1") ; sleep 0.5' sh "$BATS_TEST_TMPDIR/orphan"
	echo "$INIT stderr: $stderr"
	assert_success
	child=$(cat "$BATS_TEST_TMPDIR/orphan")
	grep -qi "reaped zombie process with pid=$child\$" <<<"$stderr"
	run --separate-stderr env TINI_VERBOSITY=0 "${ARB[@]}" -s -w -- \
		sh -c '(true &) ; sleep 0.3'
	assert_success
	refute grep -qi "reaped zombie" <<<"$stderr"
}

# TINI_VERBOSITY=3 says more than the default level (where both say
# nothing on a clean run).
case_verbosity() {
	run "${ARB[@]}" -s -- true
	assert_success
	assert_output ""
	run env TINI_VERBOSITY=3 "${ARB[@]}" -s -- true
	assert_success
	[ -n "$output" ]
}

# tini's sigconf test: CMD gets the signal mask and the ignored signals the
# init was started with: ignored TTOU, USR2, INT; blocked TTIN, ILL, TERM.
case_sigconf() {
	run --separate-stderr "${NS[@]}" "$PY" "$FIXTURES/exec-with.py" \
		--ignore TTOU,USR2,INT --block TTIN,ILL,TERM -- \
		"${ARB[@]}" -- grep -E '^Sig(Blk|Ign):' /proc/self/status
	assert_success
	output=$(std_sigs)
	assert_output $'SigBlk:\t0000000000104008\nSigIgn:\t0000000000200802'
}

# A job that says when it runs (R3D) and when it is continued (C4T), with
# words that are not in the command line bash echoes.
TTY_JOB='import signal, time; signal.signal(signal.SIGCONT, lambda *a: print("C" + "4T", flush=True)); print("R" + "3D", flush=True); time.sleep(100)'

# bash -m on a terminal under the init: Ctrl-C ends the foreground job (not
# bash, not the init), Ctrl-Z stops a job, fg brings it back, and bash's
# exit status is the init's.
case_tty_job_control() {
	run env TIMEOUT="$TIMEOUT" "$PY" "$FIXTURES/ptyrun.py" \
		'expect:\$ $' "send:sh -c 'echo R\$((1+1))D; exec sleep 100'\n" 'expect:R2D' \
		'send:\x03' 'expect:\$ $' 'send:echo rc=$?\n' 'expect:rc=130' \
		"send:$PY -c '$TTY_JOB'\n" \
		'expect:R3D' 'send:\x1a' 'expect:Stopped' 'send:jobs\n' \
		'expect:\[1\]\+ +Stopped +[^ ]*python' 'send:fg\n' 'expect:C4T' 'send:\x03' \
		'expect:\$ $' 'send:echo rc=$?\n' 'expect:rc=130' 'send:exit 7\n' -- \
		"${NS[@]}" "${ARB[@]}" -- env PS1='$ ' bash --norc --noprofile --noediting -m -i
	echo "$output"
	assert_equal "$status" 7
}

# A CMD that takes DRAIN seconds to finish after TERM, then exits 0: the
# init waits for it (no deadline of its own) and exits 0.
case_slow_drain() {
	local pid start drain=$1
	dropin_bg -- "${SIGALL[@]}" --drain "$drain"
	wait_file "$ALL.ready"
	pid=$(arbor_pid)
	start=$(date +%s%N)
	kill -TERM "$pid"
	dropin_wait
	echo "$INIT: exited $status after $((($(date +%s%N) - start) / 1000000)) ms"
	assert_equal "$status" 0
	[ $((($(date +%s%N) - start) / 1000000)) -ge $((drain * 1000 - 200)) ]
}

# --- the shared cases, each with both inits ---------------------------------

@test "arbor: every forwarded signal 1-31 reaches CMD, TERM/INT/QUIT twice, nothing else" {
	use arbor; case_every_signal
}
@test "tini: every forwarded signal 1-31 reaches CMD, TERM/INT/QUIT twice, nothing else" {
	use tini; case_every_signal
}
@test "arbor as PID 1: every forwarded signal reaches CMD, TERM/INT/QUIT twice" {
	use arbor pid1; case_every_signal
}
@test "tini as PID 1: every forwarded signal reaches CMD, TERM/INT/QUIT twice" {
	use tini pid1; case_every_signal
}
@test "arbor: exit statuses 0-255, and -e N" { use arbor; case_exit_codes; }
@test "tini: exit statuses 0-255, and -e N" { use tini; case_exit_codes; }
@test "arbor: a death by signal N gives 128+N, and -e 128+N gives 0" {
	use arbor; case_signal_deaths
}
@test "tini: a death by signal N gives 128+N, and -e 128+N gives 0" {
	use tini; case_signal_deaths
}
@test "arbor: -g signals CMD's process group" { use arbor; case_group -g; }
@test "tini: -g signals CMD's process group" { use tini; case_group -g; }
@test "arbor: TINI_KILL_PROCESS_GROUP is -g" {
	use arbor; export TINI_KILL_PROCESS_GROUP=1; case_group
}
@test "tini: TINI_KILL_PROCESS_GROUP is -g" {
	use tini; export TINI_KILL_PROCESS_GROUP=1; case_group
}
@test "arbor: without -g only CMD is signalled" { use arbor; check_no_group; }
@test "tini: without -g only CMD is signalled" { use tini; check_no_group; }
@test "arbor: -p SIG: the parent's death sends SIG on to CMD" {
	use arbor; case_parent_death
}
@test "tini: -p SIG: the parent's death sends SIG on to CMD" {
	use tini; case_parent_death
}
@test "arbor as PID 1: orphans are reaped" { use arbor pid1; case_reaping; }
@test "tini as PID 1: orphans are reaped" { use tini pid1; case_reaping; }
@test "arbor -s: orphans are adopted and reaped" { use arbor; case_reaping -s; }
@test "tini -s: orphans are adopted and reaped" { use tini; case_reaping -s; }
@test "arbor with TINI_SUBREAPER: orphans are adopted and reaped" {
	use arbor; export TINI_SUBREAPER=; case_reaping
}
@test "tini with TINI_SUBREAPER: orphans are adopted and reaped" {
	use tini; export TINI_SUBREAPER=; case_reaping
}
@test "arbor: -w tells each reaped zombie; TINI_VERBOSITY=0 silences it" {
	use arbor; case_warn_on_reap
}
@test "tini: -w tells each reaped zombie; TINI_VERBOSITY=0 silences it" {
	use tini; case_warn_on_reap
}
@test "arbor: TINI_VERBOSITY=3 says more" { use arbor; case_verbosity; }
@test "tini: TINI_VERBOSITY=3 says more" { use tini; case_verbosity; }
@test "arbor: CMD inherits the init's signal mask and ignored signals" {
	use arbor; case_sigconf
}
@test "tini: CMD inherits the init's signal mask and ignored signals" {
	use tini; case_sigconf
}
@test "arbor as PID 1: bash -m on a tty gets Ctrl-C and job control" {
	use arbor pid1; case_tty_job_control
}
@test "tini as PID 1: bash -m on a tty gets Ctrl-C and job control" {
	use tini pid1; case_tty_job_control
}
@test "arbor: bash -m on a tty gets Ctrl-C and job control" {
	use arbor; case_tty_job_control
}
@test "tini: bash -m on a tty gets Ctrl-C and job control" {
	use tini; case_tty_job_control
}
@test "arbor: a CMD that drains 8 s after TERM exits 0, and so does arbor" {
	use arbor; case_slow_drain 8
}
@test "tini: a CMD that drains 8 s after TERM exits 0, and so does tini" {
	use tini; case_slow_drain 8
}

# --- the differences, arbor(8) "Differences from tini" ----------------------

@test "arbor: an unknown flag exits 64 (tini: 1)" {
	use arbor
	run --separate-stderr "${ARB[@]}" -Z -- true
	assert_equal "$status" 64
	stderr_names "unknown option -Z"
}
@test "tini: an unknown flag exits 1" {
	use tini
	run --separate-stderr "${ARB[@]}" -Z -- true
	assert_equal "$status" 1
}
@test "arbor: always a subreaper, without -s, and says nothing of it" {
	use arbor; case_reaping
}
@test "tini: without -s and not PID 1, warns that reaping won't work" {
	use tini
	run --separate-stderr "${ARB[@]}" -- true
	assert_success
	grep -q "zombie reaping won't work" <<<"$stderr"
}
@test "arbor: with -g, not PID 1, what CMD leaves in its group is killed when it exits" {
	use arbor
	run "${ARB[@]}" -g -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $! >"$1"' sh "$BATS_TEST_TMPDIR/left"
	assert_success
	kill_at_teardown "$(cat "$BATS_TEST_TMPDIR/left")"
	wait_gone "$(cat "$BATS_TEST_TMPDIR/left")"
}
@test "tini: with -g, not PID 1, what CMD leaves in its group lives on" {
	use tini
	run "${ARB[@]}" -s -g -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $! >"$1"' sh "$BATS_TEST_TMPDIR/left"
	assert_success
	kill_at_teardown "$(cat "$BATS_TEST_TMPDIR/left")"
	kill -0 "$(cat "$BATS_TEST_TMPDIR/left")"
}

# --- arbor's own: -l, and CMD as the child `cmd` -----------------------------

@test "arbor: -l prints the licence of LICENSE and exits 0" {
	use arbor
	run "${ARB[@]}" -l
	assert_success
	assert_equal "$output" "$(cat "$ROOT/LICENSE")"
}
@test "tini: -l prints a licence and exits 0" {
	use tini
	run "${ARB[@]}" -l
	assert_success
	assert_output --partial "Permission is hereby granted"
}

@test "arbor: CMD is the child cmd for arborctl status, tree and kill" {
	use arbor
	export ARBOR_SOCKET=$BATS_TEST_TMPDIR/arbor.sock
	dropin_bg -- "${SIGALL[@]}"
	wait_file "$ALL.ready"
	wait_until test -S "$ARBOR_SOCKET"
	run "$ARBORCTL" status cmd
	assert_success
	assert_output --regexp "cmd +worker +$(cat "$ALL.ready") +running"
	run "$ARBORCTL" tree
	assert_success
	assert_output --regexp "└── cmd \(worker\) running pid $(cat "$ALL.ready")"
	run "$ARBORCTL" stop cmd
	assert_failure
	assert_output --partial "use kill"
	run "$ARBORCTL" kill cmd USR2
	assert_success
	wait_log "$ALL" "^USR2$"
	run "$ARBORCTL" kill cmd KILL
	assert_success
	dropin_wait
	assert_equal "$status" 137
}
