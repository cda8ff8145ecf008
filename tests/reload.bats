#!/usr/bin/env bats
# Reload (issue 5; arborctl(8), DESIGN.md): `arborctl reload` and SIGHUP
# re-read the INI and apply only what changed: added children start,
# removed ones stop, changed ones restart, the rest keep their pids. A file
# with an error changes nothing, and the error (file:line first) goes back
# to whoever asked.

load helper
load trees_helper

setup() { tree_setup; }
teardown() { tree_teardown; }

ctl() { "$ARBORCTL" "$@"; }

# write_tree [EXTRA]: the tree, with EXTRA (sections) appended.
write_tree() {
	cat >"$INI" <<EOF
[supervisor]
intensity = 50

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
${1:-}
EOF
}

start_tree() {
	write_tree "${1:-}"
	tree_start
	wait_until ctl ping
}

pids() { echo "a=$(wpid a) b=$(wpid b) api=$(wpid web/api) db=$(wpid web/db)"; }

# paths: the paths of `status --json`, in order.
paths() { ctl status --json | jq -r '[.. | objects | select(has("path")) | .path] | join(" ")'; }
state_of() { ctl status "$1" --json | jq -r .state; }
state_is() { [ "$(state_of "$1")" = "$2" ]; }

# reload_ok: arborctl reload succeeds and waits until the tree is steady.
reload_ok() {
	run --separate-stderr ctl reload
	echo "reload: $status $output $stderr"
	[ "$status" -eq 0 ] || return 1
	wait_until ctl ping
}

@test "reload: an added child starts; the others keep their pids" {
	start_tree
	local before
	before=$(pids)
	write_tree "
[worker c]
command = $W c

[worker web/cache]
command = $W web/cache"
	reload_ok
	assert_output --regexp '^reloaded .*added'
	wait_wpid c
	wait_wpid web/cache
	wait_until state_is c running
	wait_until state_is web/cache running
	assert_equal "$(ctl status c --json | jq -r .pid)" "$(wpid c)"
	ns_alive "$(wpid web/cache)"
	assert_equal "$(paths)" " a b web web/api web/db web/cache c"
	assert_equal "$(pids)" "$before"
}

@test "reload: a removed child is stopped and gone; the others keep their pids" {
	start_tree "
[worker c]
command = $W c"
	wait_wpid c
	local pc=$(wpid c) pdb=$(wpid web/db) before
	write_tree
	sed -i '/^\[worker web\/db\]/,+1d' "$INI"
	before="a=$(wpid a) b=$(wpid b) api=$(wpid web/api)"
	reload_ok
	assert_output --regexp '^reloaded .*removed'
	wait_ns_gone "$pc" "$pdb"
	assert_equal "$(cat "$D/c.sig") $(cat "$D/web_db.sig")" "TERM TERM"
	run --separate-stderr ctl status c
	assert_failure 1
	assert_equal "$stderr" "arborctl: no such child: c"
	run --separate-stderr ctl status web/db
	assert_failure 1
	assert_equal "$(paths)" " a b web web/api"
	assert_equal "a=$(wpid a) b=$(wpid b) api=$(wpid web/api)" "$before"
}

@test "reload: a changed child restarts with its new command; the rest stay" {
	start_tree
	local pa=$(wpid a) pb=$(wpid b) papi=$(wpid web/api) pdb=$(wpid web/db)
	sed -i "s|^command = $W a\$|command = $W a trap|; s|^command = $W web/db\$|command = $W web/db trap|" \
		"$INI"
	reload_ok
	assert_output --regexp '^reloaded .*changed'
	wait_new_wpid a "$pa"
	wait_new_wpid web/db "$pdb"
	! ns_alive "$pa"
	assert_equal "$(cat "$D/a.sig")" TERM
	nsenter -t "$(arbor_inner_pid)" -p -m cat "/proc/$(wpid a)/cmdline" | tr '\0' ' ' |
		grep -q "a trap"
	wait_until state_is a running
	assert_equal "$(wpid b) $(wpid web/api)" "$pb $papi"
}

@test "reload: an unchanged file changes nothing" {
	start_tree
	local before web
	before=$(pids)
	web=$(ctl status web --json | jq -r .pid)
	reload_ok
	assert_output --regexp '0 added, 0 removed, 0 changed'
	assert_equal "$(pids)" "$before"
	assert_equal "$(ctl status web --json | jq -r .pid)" "$web"
	[ ! -e "$D/a.sig" ]
}

@test "reload: a broken file changes nothing and the error names file:line" {
	start_tree
	local before line
	before=$(pids)
	write_tree "
[worker c]
command = $W c
restart = always"
	line=$(grep -n '^restart = always' "$INI" | cut -d: -f1)
	sed -i "s|^command = $W a\$|command = $W a trap|" "$INI"
	run --separate-stderr ctl reload
	assert_failure 1
	assert_equal "$output" ""
	echo "$stderr"
	assert_regex "$stderr" "^arborctl: $INI:$line: .*restart = always"
	assert_equal "$(pids)" "$before"
	assert_equal "$(paths)" " a b web web/api web/db"
	[ ! -e "$D/c.pid" ]
	[ ! -e "$D/a.sig" ]
	wait_log "$LOG" "$INI:$line"
	# a file that cannot be read at all is the same
	mv "$INI" "$INI.away"
	run --separate-stderr ctl reload
	assert_failure 1
	assert_regex "$stderr" "$INI"
	assert_equal "$(pids)" "$before"
	# once fixed, it applies
	mv "$INI.away" "$INI"
	sed -i 's/^restart = always$/restart = transient/' "$INI"
	reload_ok
	wait_wpid c
}

@test "SIGHUP: reloads the same way" {
	start_tree
	local pa=$(wpid a) pb=$(wpid b)
	write_tree "
[worker c]
command = $W c"
	sed -i "s|^command = $W a\$|command = $W a trap|" "$INI"
	kill -HUP "$(arbor_inner_pid)"
	wait_wpid c
	wait_new_wpid a "$pa"
	wait_until state_is c running
	assert_equal "$(wpid b)" "$pb"
	run ctl ping
	assert_success
}

@test "SIGHUP: a broken file changes nothing; the log names file:line" {
	start_tree
	local before line
	before=$(pids)
	write_tree "
[worker c]
command = $W c
no_such_key = 1"
	line=$(grep -n '^no_such_key' "$INI" | cut -d: -f1)
	kill -HUP "$(arbor_inner_pid)"
	wait_log "$LOG" "$INI:$line: .*no_such_key"
	run ctl ping
	assert_success
	assert_equal "$(pids)" "$before"
	assert_equal "$(paths)" " a b web web/api web/db"
	[ ! -e "$D/c.pid" ]
	kill -0 "$ARBOR_PID"
}

@test "reload: answered once applied: added ready, removed gone, changed restarted" {
	start_tree "
[worker gone]
command = $W gone"
	local pgone=$(wpid gone) pa=$(ctl status a --json | jq -r .pid)
	write_tree "
[worker c]
command = $W c slowready
ready = fd:3

[worker web/cache]
command = $W web/cache slowready
ready = fd:3"
	sed -i "s|^command = $W a\$|command = $W a trap|" "$INI"
	run --separate-stderr ctl reload
	echo "$output $stderr"
	assert_success
	assert_output "reloaded $INI: 2 added, 1 removed, 1 changed"
	# nothing to wait for: the answer came once all of it was done
	assert_equal "$(state_of c) $(state_of web/cache) $(state_of a)" "running running running"
	[ "$(ctl status a --json | jq -r .pid)" != "$pa" ]
	! ns_alive "$pgone"
	run ctl status gone
	assert_failure 1
	run ctl ping
	assert_success
}

@test "reload: a start that fails is in the answer; the children after it still start" {
	start_tree
	write_tree "
[worker fgs]
command = /bin/sh -c 'if [ -e $D/fgs.once ]; then exec $W fgs ready; fi; : >$D/fgs.once; exit 1'
ready = fd:3

[worker after2]
command = $W after2 ready
ready = fd:3"
	run --separate-stderr ctl reload
	echo "$output $stderr"
	assert_failure 1
	assert_equal "$stderr" \
		"arborctl: reloaded $INI: 2 added, 0 removed, 0 changed; cannot start fgs: it exited before it was ready"
	assert_equal "$(state_of after2)" running
	# fgs failed its start: a crash, restarted once the reload's plan was done
	wait_log "$LOG" '^arbor: restarting fgs restart=1/50 '
	wait_until state_is fgs running
	wait_until ctl ping
	assert_equal "$(state_of after2)" running
	assert_equal "$(paths)" " a b web web/api web/db fgs after2"
}

@test "reload: a start that fails in a nested supervisor is in the answer too" {
	start_tree
	write_tree "
[worker web/bad]
command = $W web/bad exit:3
ready = fd:3
restart = temporary

[worker web/after]
command = $W web/after ready
ready = fd:3"
	run --separate-stderr ctl reload
	echo "$output $stderr"
	assert_failure 1
	assert_equal "$stderr" \
		"arborctl: reloaded $INI: 2 added, 0 removed, 0 changed; cannot start web/bad: it exited before it was ready"
	assert_equal "$(state_of web/after)" running
	assert_equal "$(state_of web/bad)" stopped
	run ctl ping
	assert_success
}

# sent_or_gone PID: arborctl PID has sent its request and is blocked in
# read(2) for the answer, or has already exited.
sent_or_gone() { ! kill -0 "$1" || [ "$(cut -d' ' -f1 "/proc/$1/syscall")" = 0 ]; }

# busy_tree: a tree whose worker slow is being restarted and not ready
# until slow.go exists (the restart's arborctl is $RS), and a file that
# adds the worker c, written but not yet reloaded.
busy_tree() {
	touch "$D/slow.go"
	start_tree "
[worker slow]
command = $W slow readyfile
ready = fd:3"
	local ps=$(wpid slow)
	ctl restart slow &
	RS=$!
	wait_new_wpid slow "$ps"
	wait_until state_is slow starting
	write_tree "
[worker slow]
command = $W slow readyfile
ready = fd:3

[worker c]
command = $W c"
}

@test "reload: asked while the tree is busy, it waits its turn, then applies" {
	local rl
	busy_tree
	"$ARBORCTL" reload >"$D/reload.out" 2>&1 &
	rl=$!
	wait_until sent_or_gone "$rl"
	ctl status >/dev/null	# one more turn of arbor's loop: it has the request
	run kill -0 "$rl"
	assert_success		# not refused as busy: it waits
	[ ! -e "$D/c.pid" ]
	touch "$D/slow.go"
	wait "$RS"
	wait "$rl"
	cat "$D/reload.out"
	assert_equal "$(cat "$D/reload.out")" "reloaded $INI: 1 added, 0 removed, 0 changed"
	assert_equal "$(state_of c)" running
	grep -E '^(ready slow|start c)$' "$EV" | tail -n 2 | assert_seq "ready slow" "start c"
}

@test "SIGHUP: while the tree is busy, the reload runs once it is idle" {
	busy_tree
	kill -HUP "$(arbor_inner_pid)"
	ctl status >/dev/null
	[ ! -e "$D/c.pid" ]
	touch "$D/slow.go"
	wait "$RS"
	wait_until state_is c running
	grep -E '^(ready slow|start c)$' "$EV" | tail -n 2 | assert_seq "ready slow" "start c"
}

@test "reload: a removed nested supervisor is stopped with its subtree; arbor runs on" {
	start_tree
	local pa=$(wpid a) papi=$(wpid web/api) pdb=$(wpid web/db)
	cat >"$INI" <<EOF
[supervisor]
intensity = 50

[worker a]
command = $W a

[worker b]
command = $W b
EOF
	reload_ok
	assert_output "reloaded $INI: 0 added, 3 removed, 0 changed"
	wait_ns_gone "$papi" "$pdb"
	assert_equal "$(paths)" " a b"
	assert_equal "$(wpid a)" "$pa"
	ns_alive "$pa"
	run ctl ping
	assert_success
	tree_stop
}
