# Shared by strategies.bats, restart.bats and lifecycle.bats: a worker
# program that records its own life, and ways to reach the processes of a
# tree that runs as PID 1 of its own PID namespace. Loaded after helper.
#
# Every suite calls tree_setup in setup(). Then, in each test:
#
#   $INI        the tree the test writes (in $BATS_TEST_TMPDIR)
#   $W NAME [MODE]
#               the worker command line to put in the INI: it appends
#               "start NAME" to $EV and writes its pid (as seen inside the
#               namespace) to wpid NAME's file; on SIGTERM (and INT, QUIT,
#               USR1, HUP) it appends "stop NAME", records the signal's name
#               in NAME.sig and exits 0. MODE:
#                 trap       the default above
#                 ready      "ready NAME" then a newline on fd 3 (ready = fd:3)
#                 slowready  the same after half a second
#                 noready    never writes to fd 3, keeps running
#                 readyfile  ready (as above) once the file NAME.go exists,
#                            which it removes
#                 ignore     on a stop signal appends "term NAME" and goes on
#                 linger     on a stop signal appends "term NAME", then stops
#                            (as above) once the file NAME.go exists
#                 exit:N     exits N at once
#                 sleep      execs sleep: dies by whatever signal it gets
#                 waitfile   exits 0 as soon as the file NAME.go exists,
#                            which it removes
#               (Files are named after NAME with each / made a _: n/x
#               writes n_x.pid and waits for n_x.go.)
#   $EV         the event file, one line per worker event, in the order the
#               events happened (one write(2) each, O_APPEND)
bats_require_minimum_version 1.5.0

tree_setup() {
	D=$BATS_TEST_TMPDIR
	EV=$D/ev
	INI=$D/tree.ini
	W=$D/w
	LOG=$D/arbor.log
	: >"$EV"
	cat >"$W" <<EOF
#!/bin/bash
name=\$1 mode=\${2:-trap}
f=\${name//\//_}
echo "start \$name" >>$EV
echo \$\$ >$D/\$f.pid.tmp && mv $D/\$f.pid.tmp $D/\$f.pid
on_stop() {
	if [ "\$mode" = ignore ]; then
		echo "term \$name" >>$EV
		return
	fi
	if [ "\$mode" = linger ]; then
		echo "term \$name" >>$EV
		while [ ! -e $D/\$f.go ]; do sleep 0.05; done
	fi
	echo "\$1" >$D/\$f.sig
	echo "stop \$name" >>$EV
	exit 0
}
for s in TERM INT QUIT USR1 HUP; do trap "on_stop \$s" \$s; done
case \$mode in
ready) echo "ready \$name" >>$EV; echo >&3 ;;
slowready) sleep 0.5; echo "ready \$name" >>$EV; echo >&3 ;;
readyfile) while [ ! -e $D/\$f.go ]; do sleep 0.05; done; rm $D/\$f.go
	echo "ready \$name" >>$EV; echo >&3 ;;
exit:*) exit \${mode#exit:} ;;
sleep) exec sleep 1000 ;;
waitfile) while [ ! -e $D/\$f.go ]; do sleep 0.05; done; rm $D/\$f.go; exit 0 ;;
esac
while :; do sleep 100 & wait \$!; done
EOF
	chmod +x "$W"
}

tree_teardown() { arbor_teardown; }

# wpid NAME: the worker's last pid (inside the namespace), once it has one.
wpid() {
	wait_file "$D/${1//\//_}.pid" || return 1
	cat "$D/${1//\//_}.pid"
}

# wait_wpid NAME: until NAME has written a pid.
wait_wpid() { wait_file "$D/${1//\//_}.pid"; }

# wait_new_wpid NAME OLD: until NAME runs with a pid other than OLD.
wait_new_wpid() {
	wait_until bash -c "p=\$(cat '$D/${1//\//_}.pid'); [ -n \"\$p\" ] && [ \"\$p\" != '$2' ]"
}

# ns_kill SIG PID...: sends SIG to the namespace's processes PID... (from
# here, so that arbor's exit cannot take the sender with it).
ns_kill() {
	local sig=$1 p o outer=()
	shift
	for p; do
		o=$(outer_pid "$p") || { echo "ns_kill: no process $p" >&2; return 1; }
		outer+=("$o")
	done
	kill -s "$sig" "${outer[@]}"
}

# ns_alive PID: the namespace pid exists and is not a zombie.
ns_alive() {
	local st
	st=$(nsenter -t "$(arbor_inner_pid)" -p -m cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# wait_ns_gone PID...: until none of the namespace pids is alive.
wait_ns_gone() {
	local p
	for p; do
		wait_until eval "! ns_alive $p"
	done
}

# ns_count PATTERN: how many processes inside the namespace have a command
# line matching the extended regex.
ns_count() {
	local inner n=0 ns p
	inner=$(arbor_inner_pid)
	[ -n "$inner" ] || { echo 0; return; }
	ns=$(readlink "/proc/$inner/ns/pid")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -Eq -- "$1" && n=$((n + 1))
	done
	echo "$n"
}

# log_pid PATH: the pid of the last "started PATH" line of arbor's log.
log_pid() {
	grep -E "^arbor: started $1 pid=" "$LOG" | tail -n1 | sed -E 's/.* pid=([0-9]+).*/\1/'
}

# ev_mark: the number of events so far; ev_since MARK: the events after it.
ev_mark() { wc -l <"$EV"; }
ev_since() { tail -n +$(($1 + 1)) "$EV"; }

# wait_ev PATTERN [N]: until at least N (default 1) events match.
wait_ev() {
	local n=${2:-1}
	wait_until bash -c "[ \$(grep -Ec -- '$1' '$EV') -ge $n ]"
}

# wait_log_n PATTERN N: until at least N lines of arbor's log match.
wait_log_n() {
	wait_until bash -c "[ \$(grep -Ec -- '$1' '$LOG') -ge $2 ]"
}

# assert_seq EXPECTED...: the lines on stdin are exactly EXPECTED, in order.
assert_seq() {
	local got want
	got=$(cat)
	want=$(printf '%s\n' "$@")
	if [ "$got" != "$want" ]; then
		printf 'expected:\n%s\ngot:\n%s\n' "$want" "$got" >&2
		echo "arbor log:" >&2
		cat "$LOG" >&2
		return 1
	fi
}

# tree_start [ARGS...]: runs arbor -c $INI ARGS and waits for the root to
# say it is ready and for every $W worker of the INI to have logged its start.
tree_start() {
	local name
	arbor_bg -c "$INI" "$@"
	wait_log "$LOG" '^arbor: ready / ' || { cat "$LOG" >&2; return 1; }
	# A worker ready at exec may not have recorded itself yet (it writes
	# its pid file after its start event).
	for name in $(grep -oE "$W [^ ']+" "$INI" | cut -d' ' -f2); do
		wait_wpid "$name" || return 1
	done
}

# tree_wait: waits for arbor to exit, its status in $status; fails when
# arbor does not exit in time.
tree_wait() { arbor_wait || return 1; }

# tree_stop: TERMs arbor and expects a clean exit.
tree_stop() {
	kill -TERM "$(arbor_inner_pid)"
	tree_wait
	[ "$status" -eq 0 ] || { echo "arbor exited $status" >&2; cat "$LOG" >&2; return 1; }
}

# no_log PATTERN: arbor's log has no line matching.
no_log() {
	if grep -Eq -- "$1" "$LOG"; then
		echo "unexpected log line matching '$1':" >&2
		cat "$LOG" >&2
		return 1
	fi
}

# node_json PATH: the node's object of `arborctl status --json`.
node_json() { "$ARBORCTL" status --json | jq -c --arg p "$1" '.. | objects | select(.path? == $p)'; }

# node_is PATH JQ-TEST: the node's JSON passes the jq test.
node_is() { node_json "$1" | jq -e "$2" >/dev/null; }

# bad_check LINE-AND-MESSAGE < INI: `arbor check` refuses INI, naming the line.
bad_check() {
	local f=$D/bad.ini
	cat >"$f"
	run --separate-stderr "$ARBOR" check -c "$f"
	echo "stderr: $stderr"
	assert_equal "$status" 78
	assert_equal "$stderr" "arbor: $f:$1"
}
