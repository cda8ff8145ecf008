#!/usr/bin/env bats
# arborctl and the control socket (issue 5, arborctl(8)): every verb against
# a real tree, the exit statuses 0/1/2/64, the socket's file and its peer
# check, and clients that misbehave (garbage, oversized, half a request,
# gone mid-request, 1,000 at once) while the tree stays untouched.

load helper
load trees_helper

setup() {
	tree_setup
	CLIENT=
	ARBOR2=
	PUB=
	RAW=$FIXTURES/ctlraw.py
}

teardown() {
	[ -z "$CLIENT" ] || kill "$CLIENT" 2>/dev/null || true
	if [ -n "$ARBOR2" ]; then
		kill -KILL $(pgrep -P "$ARBOR2") "$ARBOR2" 2>/dev/null || true
		wait "$ARBOR2" 2>/dev/null || true
	fi
	tree_teardown
	[ -z "$PUB" ] || rm -rf "$PUB"
}

ctl() { "$ARBORCTL" "$@"; }

# The tree most tests use: two workers at the root, two under web.
write_tree() {
	cat >"$INI" <<EOF
$1
[supervisor]
intensity = 50
period = 5

[worker a]
command = $W a

[worker b]
command = $W b

[supervisor web]
intensity = 10

[worker web/api]
command = $W web/api

[worker web/db]
command = $W web/db
EOF
}

# start_tree [HEAD [SOCKET]]: writes the tree ([arbor] lines in HEAD),
# starts it and waits until arborctl is answered (at SOCKET if given).
start_tree() {
	write_tree "${1:-}"
	tree_start
	wait_until ctl -S "${2:-$ARBOR_SOCKET}" ping
}

# json_of PATH: the node PATH of `status --json` (a jq filter's output).
json_of() { ctl status --json | jq -c --arg p "$1" '.. | objects | select(.path? == $p)'; }
field() { json_of "$1" | jq -r ".$2"; }
# field_is PATH FIELD VALUE, field_isnt ...: for wait_until.
field_is() { [ "$(field "$1" "$2")" = "$3" ]; }
field_isnt() { [ "$(field "$1" "$2")" != "$3" ]; }

# pids: "path=pid ..." of the workers, from their own pid files.
pids() { echo "a=$(wpid a) b=$(wpid b) api=$(wpid web/api) db=$(wpid web/db)"; }

fd_count() { ls "/proc/$(arbor_inner_pid)/fd" | wc -l; }
fds_are() { [ "$(fd_count)" -eq "$1" ]; }

# public_dir: a directory under /tmp that nobody may traverse, for the
# tests that run arborctl as nobody.
public_dir() {
	PUB=$(mktemp -d /tmp/arbor-ctl.XXXXXX)
	chmod 0755 "$PUB"
}

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$ARBORCTL" "$@"; }

# --- status, tree ---------------------------------------------------------

@test "status: a line per node with its pid, state, restart type, restarts" {
	start_tree
	run --separate-stderr ctl status
	assert_success
	assert_equal "$stderr" ""
	echo "$output"
	assert_regex "${lines[0]}" '^PATH +TYPE +PID +STATE +RESTART +RESTARTS +UPTIME$'
	assert_regex "${lines[1]}" '^/ +supervisor +1 +running +'
	assert_regex "${lines[2]}" "^a +worker +$(wpid a) +running +permanent +0 +[0-9]+s\$"
	assert_regex "${lines[3]}" "^b +worker +$(wpid b) +running +permanent +0 "
	assert_regex "${lines[4]}" "^web +supervisor +$(log_pid web) +running +permanent +0 "
	assert_regex "${lines[5]}" "^web/api +worker +$(wpid web/api) +running "
	assert_regex "${lines[6]}" "^web/db +worker +$(wpid web/db) +running "
	assert_equal "${#lines[@]}" 7
}

@test "status --json: one object per node, nested, with the real pids" {
	start_tree
	run --separate-stderr ctl status --json
	assert_success
	local j=$output p pid
	# a JSON parser takes it whole: one object
	assert_equal "$(jq -r 'type' <<<"$j")" object
	assert_equal "$(jq -r '.path' <<<"$j")" ""
	assert_equal "$(jq -r '.type' <<<"$j")" supervisor
	assert_equal "$(jq -r '.pid' <<<"$j")" 1
	assert_equal "$(jq -r '.state' <<<"$j")" running
	assert_equal "$(jq -r '[.children[].path] | join(" ")' <<<"$j")" "a b web"
	assert_equal "$(jq -r '.children[2] | [.children[].path] | join(" ")' <<<"$j")" \
		"web/api web/db"
	# every node has the schema's fields, with the schema's values
	jq -e '[.. | objects | select(has("path"))] | length == 6 and all(
		(.type == "worker" or .type == "supervisor") and
		(.pid == null or (.pid | type) == "number") and
		(.state | IN("starting", "running", "stopping", "stopped", "restarting")) and
		(.restart | IN("permanent", "transient", "temporary")) and
		(.restarts | type) == "number" and (.children | type) == "array")' <<<"$j"
	for p in a b web/api web/db; do
		pid=$(jq -r --arg p "$p" '.. | objects | select(.path? == $p) | .pid' <<<"$j")
		assert_equal "$pid" "$(wpid "$p")"
		ns_alive "$pid"
		assert_equal "$(jq -r --arg p "$p" \
			'.. | objects | select(.path? == $p) | "\(.type) \(.state) \(.restarts)"' \
			<<<"$j")" "worker running 0"
	done
	pid=$(jq -r '.children[2].pid' <<<"$j")
	assert_equal "$pid" "$(log_pid web)"
	ns_alive "$pid"
	# the nested supervisor is an arbor process of its own
	nsenter -t "$(arbor_inner_pid)" -p -m cat "/proc/$pid/cmdline" | tr '\0' ' ' |
		grep -q 'arbor'
}

@test "status PATH: only that subtree; / and \"\" are the root" {
	start_tree
	run ctl status web
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_regex "${lines[1]}" '^web +supervisor'
	assert_regex "${lines[2]}" '^web/api '
	assert_regex "${lines[3]}" '^web/db '
	run ctl status web/api --json
	assert_success
	assert_equal "$(jq -r '"\(.path) \(.pid) \(.children | length)"' <<<"$output")" \
		"web/api $(wpid web/api) 0"
	run ctl --json status /
	assert_success
	assert_equal "$(jq -r '.path' <<<"$output")" ""
	run ctl status ""
	assert_success
	assert_equal "${#lines[@]}" 7
}

@test "tree: drawn with pid, state, uptime and restarts of every node" {
	start_tree
	run --separate-stderr ctl tree
	assert_success
	echo "$output"
	assert_regex "${lines[0]}" '^/ \(supervisor one_for_one\) running pid 1'
	assert_regex "${lines[1]}" "^├── a \\(worker\\) running pid $(wpid a), up [0-9]+s, restarts 0\$"
	assert_regex "${lines[2]}" "^├── b \\(worker\\) running pid $(wpid b), up "
	assert_regex "${lines[3]}" "^└── web \\(supervisor one_for_one\\) running pid $(log_pid web), "
	assert_regex "${lines[4]}" "^    ├── api \\(worker\\) running pid $(wpid web/api), up .*restarts 0\$"
	assert_regex "${lines[5]}" "^    └── db \\(worker\\) running pid $(wpid web/db), "
	assert_equal "${#lines[@]}" 6
}

# --- start, stop, restart, kill -------------------------------------------

@test "stop: the child stops and stays stopped; stopping it again is fine" {
	start_tree
	local before pa=$(wpid a) pb=$(wpid b)
	run ctl stop a
	assert_success
	assert_output ""
	! ns_alive "$pa"
	assert_equal "$(cat "$D/a.sig")" TERM
	assert_equal "$(field a state) $(field a pid)" "stopped null"
	run ctl status a
	assert_regex "${lines[1]}" '^a +worker +- +stopped '
	# OTP's terminate_child of a stopped child: ok
	run ctl stop a
	assert_success
	run ctl stop web/db
	assert_success
	assert_equal "$(field web/db state)" stopped
	run ctl stop web/db
	assert_success
	assert_equal "$(wpid b)" "$pb"
	assert_equal "$(wpid a)" "$pa"	# not restarted behind our back
	assert_equal "$(field a state)" stopped
}

@test "start: a stopped child starts with a new pid; a running one says so" {
	start_tree
	local pa=$(wpid a) pb=$(wpid b) papi=$(wpid web/api)
	run ctl stop a
	assert_success
	run ctl start a
	assert_success
	wait_new_wpid a "$pa"
	assert_equal "$(field a pid)" "$(wpid a)"
	assert_equal "$(field a state)" running
	run --separate-stderr ctl start a
	assert_failure 1
	assert_equal "$output" ""
	assert_regex "$stderr" "^arborctl: already started: a \\(pid $(wpid a)\\)"
	run --separate-stderr ctl start web/api
	assert_failure 1
	assert_regex "$stderr" "already started: web/api"
	run ctl stop web/api
	run ctl start web/api
	assert_success
	wait_new_wpid web/api "$papi"
	assert_equal "$(field web/api pid)" "$(wpid web/api)"
	assert_equal "$(wpid b)" "$pb"
}

@test "restart: new pids for the child only, at the root and in a subtree" {
	start_tree
	local pa=$(wpid a) pb=$(wpid b) papi=$(wpid web/api) pdb=$(wpid web/db)
	local pweb=$(log_pid web)
	run ctl restart a
	assert_success
	wait_new_wpid a "$pa"
	! ns_alive "$pa"
	assert_equal "$(field a pid)" "$(wpid a)"
	run ctl restart web/api
	assert_success
	wait_new_wpid web/api "$papi"
	assert_equal "$(field web/api pid)" "$(wpid web/api)"
	assert_equal "$(wpid b) $(wpid web/db) $(field web pid)" "$pb $pdb $pweb"
	# a supervisor restarts with its whole subtree
	run ctl restart web
	assert_success
	wait_until field_isnt web pid "$pweb"
	wait_new_wpid web/db "$pdb"
	assert_equal "$(wpid b)" "$pb"
}

@test "kill PATH SIGNAL: the signal arrives, the child is restarted" {
	start_tree
	local pa=$(wpid a) pb=$(wpid b) papi=$(wpid web/api)
	run ctl kill a TERM
	assert_success
	wait_new_wpid a "$pa"
	assert_equal "$(cat "$D/a.sig")" TERM
	pa=$(wpid a)
	run ctl kill a SIGUSR1
	assert_success
	wait_new_wpid a "$pa"
	assert_equal "$(cat "$D/a.sig")" USR1
	pa=$(wpid a)
	run ctl kill a 3
	assert_success
	wait_new_wpid a "$pa"
	assert_equal "$(cat "$D/a.sig")" QUIT
	# default: KILL, which no trap sees
	run ctl kill b
	assert_success
	wait_new_wpid b "$pb"
	[ ! -e "$D/b.sig" ]
	# in a subtree, through its supervisor
	run ctl kill web/api hup
	assert_success
	wait_new_wpid web/api "$papi"
	assert_equal "$(cat "$D/web_api.sig")" HUP
	wait_until field_is web/api restarts 1
	assert_equal "$(field web/api pid)" "$(wpid web/api)"
	assert_equal "$(field a restarts)" 3
}

@test "no such child: exit 1 and the path named, for every verb" {
	start_tree
	local before verb
	before=$(pids)
	for verb in status start stop restart kill; do
		for p in nope web/nope a/b; do
			run --separate-stderr ctl "$verb" "$p"
			assert_failure 1
			assert_equal "$output" ""
			assert_equal "$stderr" "arborctl: no such child: $p"
		done
	done
	run --separate-stderr ctl status nope --json
	assert_failure 1
	assert_equal "$stderr" "arborctl: no such child: nope"
	assert_equal "$(pids)" "$before"
}

@test "the root: start, stop, restart, kill say to use shutdown, in full" {
	start_tree
	local before verb
	before=$(pids)
	for verb in start stop restart kill; do
		for p in "" /; do
			run --separate-stderr ctl "$verb" "$p"
			assert_failure 1
			assert_equal "$stderr" \
				"arborctl: the root cannot be stopped or started: use arborctl shutdown"
		done
	done
	assert_equal "$(pids)" "$before"
	run ctl ping
	assert_success
}

@test "the root: call, cast and send say it is a supervisor" {
	start_tree
	local verb
	for verb in call cast send; do
		for p in "" /; do
			run --separate-stderr ctl "$verb" "$p" get_value
			assert_failure 1
			assert_equal "$stderr" "arborctl: not a genserver: / is a supervisor"
		done
		run --separate-stderr ctl "$verb" web get_value
		assert_failure 1
		assert_equal "$stderr" "arborctl: not a genserver: web is a supervisor"
	done
}

# --- ping, shutdown -------------------------------------------------------

@test "ping: 0 and pong when healthy; 2 when arbor is not there" {
	export ARBOR_SOCKET=$D/arbor.sock
	run --separate-stderr ctl ping
	assert_failure 2
	assert_regex "$stderr" "^arborctl: cannot connect to $D/arbor.sock: No such file or directory"
	start_tree
	run ctl ping
	assert_success
	assert_output pong
}

@test "ping: 1 while the tree is still starting" {
	cat >"$INI" <<EOF
[worker a]
command = $W a
[worker slow]
command = $W slow noready
ready = fd:3
start_timeout = 600000
EOF
	arbor_bg -c "$INI"
	wait_wpid slow
	wait_until test -S "$ARBOR_SOCKET"
	run --separate-stderr ctl ping
	assert_failure 1
	assert_equal "$stderr" "arborctl: starting"
	# status answers all the same
	run ctl status --json
	assert_success
	assert_equal "$(jq -r '.children[1].state' <<<"$output")" starting
}

@test "ping: 1 while a crashed child is starting again, until it is ready" {
	cat >"$INI" <<EOF
[worker a]
command = $W a readyfile
ready = fd:3

[supervisor web]

[worker web/api]
command = $W web/api readyfile
ready = fd:3
EOF
	touch "$D/a.go" "$D/web_api.go"
	tree_start
	wait_until ctl ping
	local pa=$(wpid a) papi=$(wpid web/api)
	ns_kill KILL "$pa"
	wait_new_wpid a "$pa"
	run --separate-stderr ctl ping
	assert_failure 1
	assert_equal "$stderr" "arborctl: not healthy: a is restarting"
	assert_equal "$(field a state)" starting
	touch "$D/a.go"
	wait_until ctl ping
	assert_equal "$(field a state)" running
	# the same under a nested supervisor: its parent's view says so too
	ns_kill KILL "$papi"
	wait_new_wpid web/api "$papi"
	run --separate-stderr ctl ping
	assert_failure 1
	assert_equal "$stderr" "arborctl: not healthy: web/api is restarting"
	touch "$D/web_api.go"
	wait_until ctl ping
	# a start asked for with arborctl is no crash: pong while it starts
	pa=$(wpid a)
	ctl restart a &
	CLIENT=$!
	wait_new_wpid a "$pa"
	assert_equal "$(field a state)" starting
	run ctl ping
	assert_success
	touch "$D/a.go"
	wait "$CLIENT"
	CLIENT=
	assert_equal "$(field a state)" running
}

@test "shutdown: the tree stops, arbor exits 0 and removes its socket" {
	start_tree
	run ctl shutdown
	assert_success
	tree_wait
	assert_equal "$status" 0
	assert_equal "$(cat "$D/a.sig") $(cat "$D/web_api.sig")" "TERM TERM"
	[ ! -e "$ARBOR_SOCKET" ]
	run ctl ping
	assert_failure 2
}

# --- usage ----------------------------------------------------------------

@test "usage errors exit 64 before any connection, with a usage line" {
	export ARBOR_SOCKET=$D/none.sock
	local args
	while IFS= read -r args; do
		eval "set -- $args"
		run --separate-stderr "$ARBORCTL" "$@"
		echo "arborctl $args -> $status: $stderr"
		assert_equal "$status" 64
		assert_equal "$output" ""
		assert_regex "$(head -n1 <<<"$stderr")" '^arborctl: .'
		assert_regex "$stderr" 'usage: arborctl'
	done <<'EOF'

bogus
Status
status a b
tree x
ping a b
shutdown now
reload x
start
stop
restart
restart a b
kill
kill a NOPE
kill a 0
kill a 65
kill a SIG
kill a TERM extra
call
call a
call a m --timeout
call a m --timeout abc
call a m --timeout 0
call a m --timeout -5
call a m --timeout 10s
cast
cast a
send
send a
--frob ping
-x ping
-S
tree --json
ping --timeout
EOF
}

@test "usage: unknown verbs and missing arguments are named" {
	run --separate-stderr ctl frobnicate
	assert_failure 64
	assert_regex "$stderr" "unknown verb 'frobnicate'"
	run --separate-stderr ctl kill a NOPE
	assert_failure 64
	assert_regex "$stderr" "unknown signal 'NOPE'"
	run --separate-stderr ctl --bogus status
	assert_failure 64
	assert_regex "$stderr" "'--bogus'"
	run --separate-stderr ctl call a
	assert_failure 64
	assert_regex "$stderr" 'usage: arborctl call PATH MESSAGE'
}

@test "-h lists every verb on stdout; --version prints the version" {
	run --separate-stderr ctl -h
	assert_success
	assert_equal "$stderr" ""
	for v in status tree start stop restart kill call cast send reload reopen shutdown ping \
		--json --timeout -S; do
		assert_output --partial "$v"
	done
	run ctl --help
	assert_success
	run ctl --version
	assert_success
	assert_output --regexp '^arborctl [0-9]+\.[0-9]+'
}

# --- the socket -----------------------------------------------------------

@test "socket: mode 0600, owned by arbor's uid" {
	start_tree
	[ -S "$ARBOR_SOCKET" ]
	assert_equal "$(stat -c '%a %u' "$ARBOR_SOCKET")" "600 $(id -u)"
}

@test "socket: control_socket in [arbor] beats \$ARBOR_SOCKET; -S chooses on the client" {
	start_tree "[arbor]
control_socket = $D/conf.sock" "$D/conf.sock"
	[ ! -e "$D/arbor.sock" ]
	assert_equal "$(stat -c %a "$D/conf.sock")" 600
	ARBOR_SOCKET=$D/conf.sock run ctl status a
	assert_success
	run --separate-stderr ctl -S "$D/nope.sock" ping
	assert_failure 2
	assert_regex "$stderr" "$D/nope.sock: No such file or directory"
	run --separate-stderr ctl status
	assert_failure 2
}

@test "socket: a stale file from a dead arbor is replaced" {
	export ARBOR_SOCKET=$D/arbor.sock
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
		"$ARBOR_SOCKET"
	[ -S "$ARBOR_SOCKET" ]
	run --separate-stderr ctl ping
	assert_failure 2
	assert_regex "$stderr" 'Connection refused'
	start_tree
	run ctl ping
	assert_success
	no_log 'control socket'
}

@test "socket: a file that is not a socket is left alone" {
	export ARBOR_SOCKET=$D/arbor.sock
	echo precious >"$ARBOR_SOCKET"
	write_tree
	arbor_bg -c "$INI"
	wait_log "$LOG" "control socket $D/arbor.sock: the file exists and is not a socket"
	assert_equal "$(cat "$D/arbor.sock")" precious
}

# second_arbor: another arbor on the same socket, its tree elsewhere.
second_arbor() {
	mkdir -p "$D/two"
	cat >"$D/two/t.ini" <<EOF
[worker x]
command = /bin/sleep 1000000
EOF
	unshare -pf --mount-proc "$ARBOR" -c "$D/two/t.ini" </dev/null \
		>"$D/two/out" 2>"$D/two/log" &
	ARBOR2=$!
}

@test "socket: a live one is not stolen: the first arbor keeps answering" {
	start_tree
	local ino before
	ino=$(stat -c %i "$ARBOR_SOCKET")
	before=$(pids)
	second_arbor
	wait_log "$D/two/log" "control socket $ARBOR_SOCKET is in use by a running arbor"
	assert_equal "$(stat -c %i "$ARBOR_SOCKET")" "$ino"
	run ctl status --json
	assert_success
	assert_equal "$(jq -r '.children[0].pid' <<<"$output")" "$(wpid a)"
	assert_equal "$(pids)" "$before"
	run ctl ping
	assert_success
}

@test "socket: a second arbor on a live socket fails to start" {
	start_tree
	second_arbor
	local end=$((SECONDS + TIMEOUT))
	while kill -0 "$ARBOR2" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.05; done
	cat "$D/two/log"
	! kill -0 "$ARBOR2" 2>/dev/null
	local st=0
	wait "$ARBOR2" || st=$?
	ARBOR2=
	[ "$st" -ne 0 ]
	grep -q "in use by a running arbor" "$D/two/log"
	run ctl ping
	assert_success
}

@test "peers: a client that is not root or arbor's uid is refused" {
	public_dir
	start_tree "[arbor]
control_socket = $PUB/sock" "$PUB/sock"
	local before
	before=$(pids)
	# the file's mode keeps it out
	run --separate-stderr as_nobody -S "$PUB/sock" status
	assert_failure 1
	assert_regex "$stderr" "^arborctl: permission denied"
	# and so does SO_PEERCRED, when the mode would let it in
	chmod 0666 "$PUB/sock"
	for v in "status a" "stop a" shutdown; do
		run --separate-stderr as_nobody -S "$PUB/sock" $v
		assert_failure 1
		assert_equal "$output" ""
		assert_equal "$stderr" \
			"arborctl: permission denied: uid 65534 is not allowed (control_group admits a group)"
	done
	wait_log "$LOG" '^arbor: control socket: refused a client with uid 65534$'
	assert_equal "$(pids)" "$before"
	run ctl -S "$PUB/sock" ping
	assert_success
}

@test "peers: control_group admits its members (primary or supplementary)" {
	public_dir
	start_tree "[arbor]
control_socket = $PUB/sock
control_group = nogroup" "$PUB/sock"
	assert_equal "$(stat -c '%a %G' "$PUB/sock")" "660 nogroup"
	run as_nobody -S "$PUB/sock" status a
	assert_success
	assert_regex "${lines[1]}" "^a +worker +$(wpid a) "
	run setpriv --reuid=nobody --regid=daemon --groups=nogroup "$ARBORCTL" -S "$PUB/sock" ping
	assert_success
	run --separate-stderr setpriv --reuid=nobody --regid=daemon --clear-groups \
		"$ARBORCTL" -S "$PUB/sock" ping
	assert_failure 1
	assert_regex "$stderr" 'permission denied'
}

# --- misbehaving clients --------------------------------------------------

@test "bad input: garbage, oversized and non-CALL frames are refused; the tree is untouched" {
	start_tree
	local before fds
	before=$(pids)
	fds=$(fd_count)
	run python3 "$RAW" "$ARBOR_SOCKET" garbage
	assert_success
	assert_line --regexp '^ERROR bad request: '
	assert_line CLOSED
	run python3 "$RAW" "$ARBOR_SOCKET" oversized
	assert_success
	assert_line --regexp '^ERROR bad request: request over the limit of [0-9]+ bytes$'
	run python3 "$RAW" "$ARBOR_SOCKET" bigpayload
	assert_success
	assert_line --regexp '^ERROR bad request: request over the limit'
	run python3 "$RAW" "$ARBOR_SOCKET" nocall
	assert_success
	assert_line 'ERROR bad request: expected a CALL frame, got REPLY'
	run ctl status --json
	assert_success
	assert_equal "$(jq -r '.children[0].pid' <<<"$output")" "$(wpid a)"
	assert_equal "$(pids)" "$before"
	wait_until fds_are "$fds"
}

@test "bad input: half a request blocks nobody else" {
	start_tree
	python3 "$RAW" "$ARBOR_SOCKET" half >"$D/half" &
	CLIENT=$!
	wait_log "$D/half" '^SENT$'
	run ctl status a
	assert_success
	assert_regex "${lines[1]}" "^a +worker +$(wpid a) "
	run ctl ping
	assert_success
	kill "$CLIENT"
	wait "$CLIENT" || true
	CLIENT=
	run ctl ping
	assert_success
}

@test "bad input: a client gone while its request is in flight harms nothing" {
	cat >"$INI" <<EOF
[worker a]
command = $W a
[worker slow]
command = $W slow ignore
shutdown = 1000
EOF
	tree_start
	wait_until ctl ping
	local pa=$(wpid a) ps=$(wpid slow) fds=$(fd_count)
	# stop answers only once slow is dead: a second after its TERM
	run python3 "$RAW" "$ARBOR_SOCKET" drop stop slow
	assert_success
	wait_ev '^term slow$'
	wait_until field_is slow state stopped
	! ns_alive "$ps"
	run ctl ping
	assert_success
	assert_equal "$(wpid a)" "$pa"
	# and one gone halfway through its request
	run python3 "$RAW" "$ARBOR_SOCKET" drop
	assert_success
	run ctl start slow
	assert_success
	assert_equal "$(field slow state)" running
	wait_until fds_are "$fds"
}

@test "a connection carries many requests, answered in order" {
	start_tree
	run python3 "$RAW" "$ARBOR_SOCKET" many 2000 ping
	assert_success
	assert_output 'answered 2000'
	run python3 "$RAW" "$ARBOR_SOCKET" many 50 status "" json
	assert_success
	assert_output 'answered 50'
}

@test "1,000 clients at once all get their status; no fd is left behind" {
	start_tree
	local before fds
	before=$(pids)
	fds=$(fd_count)
	run python3 "$RAW" "$ARBOR_SOCKET" concurrent 1000 status "" json
	assert_success
	assert_output 'answered 1000 of 1000'
	assert_equal "$(pids)" "$before"
	wait_until fds_are "$fds"
	run ctl ping
	assert_success
}

@test "1,000 arborctl status run 50 at a time all succeed" {
	start_tree
	local before
	before=$(pids)
	seq 1000 | xargs -P 50 -I{} "$ARBORCTL" status --json >"$D/all" 2>"$D/errs"
	[ ! -s "$D/errs" ]
	assert_equal "$(jq -s 'length' "$D/all")" 1000
	assert_equal "$(jq -r '.children[0].pid' "$D/all" | sort -u)" "$(wpid a)"
	assert_equal "$(pids)" "$before"
}

# --- states as status shows them while a tree changes ---

@test "status: a starting worker shows its pid, in a nested supervisor too" {
	cat >"$INI" <<EOF
[supervisor n]

[worker n/w]
command = $W n/w readyfile
ready = fd:3
EOF
	arbor_bg -c "$INI"
	wait_wpid n/w
	wait_until field_is n/w state starting
	local p
	p=$(wpid n/w)
	assert_equal "$(field n/w pid)" "$p"
	run ctl status n/w
	assert_success
	assert_regex "${lines[1]}" "^n/w +worker +$p +starting "
	ns_alive "$p"
	touch "$D/n_w.go"
	wait_log "$LOG" '^arbor: ready / '
	assert_equal "$(field n/w state) $(field n/w pid)" "running $p"
	tree_stop
}

@test "status: a rest_for_one sibling waiting to be restarted shows restarting" {
	cat >"$INI" <<EOF
[supervisor]
strategy = rest_for_one
intensity = 5

[worker a]
command = $W a readyfile
ready = fd:3

[worker b]
command = $W b
EOF
	touch "$D/a.go"
	tree_start
	local pa pb
	pa=$(wpid a) pb=$(wpid b)
	ns_kill KILL "$pa"
	wait_ev '^start a$' 2
	wait_ns_gone "$pb"
	assert_equal "$(field b state) $(field b pid)" "restarting null"
	run ctl status b
	assert_regex "${lines[1]}" "^b +worker +- +restarting "
	touch "$D/a.go"
	wait_ev '^start b$' 2
	wait_until field_is b state running
	tree_stop
}

@test "status: the root's uptime counts from its own start, not from the tree being ready" {
	cat >"$INI" <<EOF
[worker a]
command = $W a

[worker b]
command = $W b readyfile
ready = fd:3
EOF
	arbor_bg -c "$INI"
	wait_wpid b
	wait_until eval '[ "$(field a uptime)" -ge 2 ]'
	touch "$D/b.go"
	wait_log "$LOG" '^arbor: ready / '
	local root a
	root=$(json_of "" | jq -r .uptime) a=$(field a uptime)
	echo "root $root, a $a"
	[ "$root" -ge "$a" ]
	tree_stop
}
