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
