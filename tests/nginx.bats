#!/usr/bin/env bats
# arbor.ini(5)'s nginx recipe, run for real: Debian's nginx as a worker run
# as www-data, on port 80 of a network namespace of its own, serving a page
# that the test fetches, its access log relayed through /dev/stdout.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	command -v nginx >/dev/null || skip "nginx is not installed (make check installs it)"
	# nginx runs as www-data: its files go where www-data may read and
	# write (the test's own directory is closed to other users)
	PUB=/tmp/arbor-pub.$$
	mkdir -p "$PUB/html"
	chmod 0755 "$PUB"
	chown www-data "$PUB"
	echo "served by nginx under arbor" >"$PUB/html/index.html"
}

teardown() { arbor_teardown; }

# recipe WHICH: the man page's worker section (ini) or nginx.conf (conf),
# roff escapes undone, its paths moved into $PUB.
recipe() {
	local from
	case $1 in
	ini) from='^\.\\" tests/nginx.bats runs this recipe' ;;
	conf) from='^\.IR /etc/arbor/nginx\.conf :$' ;;
	esac
	FROM=$from awk '$0 ~ ENVIRON["FROM"] { on = 1 } on { print } on && /^\.fi$/ { exit }' \
		"$ROOT/man/arbor.ini.5" |
		sed -e '/^\./d' -e 's/\\-/-/g' \
			-e "s#/tmp/#$PUB/#g; s#/etc/arbor/nginx.conf#$PUB/nginx.conf#" \
			-e "s#/var/www/html#$PUB/html#"
}

# fetch: the page, from inside arbor's network namespace.
fetch() {
	nsenter -t "$(arbor_inner_pid)" -n python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1/", timeout=5).read().decode(), end="")'
}

@test "nginx: the recipe of arbor.ini(5) serves a page as www-data, logs through arbor" {
	recipe ini >"$T/t.ini"
	recipe conf >"$PUB/nginx.conf"
	grep -q '^user = www-data$' "$T/t.ini"
	grep -q '^ *listen 80;$' "$PUB/nginx.conf"
	export ARBOR_SOCKET=$T/arbor.sock
	LOG=$T/arbor.log
	# shellcheck disable=SC2046
	unshare -n -pf --mount-proc sh -c 'ip link set lo up && exec "$@"' sh \
		$(arbor_cmd) -c "$T/t.ini" </dev/null >"$T/arbor.out" 2>"$LOG" &
	ARBOR_PID=$!
	wait_log "$LOG" '^arbor: ready / '
	wait_until fetch || { cat "$LOG"; false; }
	run fetch
	assert_output "served by nginx under arbor"
	# the access log came through /dev/stdout, relayed by arbor
	wait_log "$T/arbor.out" '^\[web\] 127\.0\.0\.1 .*"GET / HTTP/1\.1" 200 '
	# nginx's master runs as www-data, with only its one capability
	inner=$(arbor_inner_pid)
	master=$(pgrep -P "$inner" nginx)
	[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$master/status")" = "$(id -u www-data)" ]
	[ "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$master/status")" = 0000000000000400 ]
	run grep -E 'emerg|alert|crit|Permission denied|restarting' "$LOG"
	assert_failure
	# a clean stop: SIGQUIT, nginx finishes and exits 0
	kill -TERM "$inner"
	arbor_wait
	assert_equal "$status" 0
	grep -Eq '^arbor: stopped web pid=[0-9]+ status=0$' "$LOG"
}
