#!/usr/bin/env bats
# file:PATH outputs as arbor writes them: the worker writes into a pipe and
# arbor appends to PATH, rotates it at line boundaries (log_max_size,
# log_backups), reopens it on `arborctl reopen`, and drops lines (counted,
# logged once) while the disk is full, never blocking the worker. Lines
# are numbered so that every one can be found again, whole, in order.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	INI=$T/t.ini
	MNT=
}

teardown() {
	arbor_teardown
	[ -z "$MNT" ] || umount "$MNT" 2>/dev/null || true
}

# A worker command writing lines "N xxx...x N" (LEN x's) for N = 1..COUNT,
# then waiting; with GO, more lines COUNT+1.. once $T/go exists.
numbered() {
	echo "/bin/sh -c \"awk 'BEGIN { x = \\\"x\\\"; while (length(x) < $2) x = x x; x = substr(x, 1, $2); for (i = 1; i <= $1; i++) printf \\\"%d %s %d\\\\n\\\", i, x, i }'; exec sleep 1000\""
}

# check_lines FIRST LAST FILE...: the files, in this order, hold exactly the
# lines FIRST..LAST, each whole; each file ends with a newline.
check_lines() {
	local first=$1 last=$2 f
	shift 2
	for f in "$@"; do
		[ ! -s "$f" ] || [ -z "$(tail -c 1 "$f")" ] || {
			echo "$f does not end with a newline"
			return 1
		}
	done
	cat "$@" | awk -v first="$first" -v last="$last" '
		{ n = first + NR - 1
		  if ($0 !~ /^[0-9]+ x+ [0-9]+$/ || $1 != n || $3 != n) {
			print "line " NR ": expected " n ", got: " substr($0, 1, 60); bad = 1; exit 1 } }
		END { if (!bad && first + NR - 1 != last) {
			print "lines " first ".." first + NR - 1 ", expected .." last; exit 1 } }'
}

# counted: the last line number the worker wrote down in $T/count (read
# again when the worker was caught rewriting it).
counted() {
	local c= n=0
	until [ -n "$c" ] || [ $((n += 1)) -gt 1000 ]; do c=$(cat "$T/count"); done
	echo "${c:-0}"
}

# files_under FILE MAX: every file given holds at most MAX bytes.
files_under() {
	local max=$1 f
	shift
	for f in "$@"; do
		[ "$(stat -c %s "$f")" -le "$max" ] || {
			echo "$f: $(stat -c %s "$f") bytes, over $max"
			return 1
		}
	done
}

@test "logfile: a 10 MB log is rotated into log_backups files, no line lost or split" {
	cat >"$INI" <<-EOF
		[supervisor]
		log_max_size = 1M
		[worker w]
		command = $(numbered 100000 100)
		stdout = file:$T/out.log
		log_backups = 12
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/out.log" '^100000 '
	ls -l "$T"
	[ -e "$T/out.log.10" ]
	[ ! -e "$T/out.log.11" ]
	files_under 1048576 "$T"/out.log*
	check_lines 1 100000 "$T"/out.log.{10..1} "$T/out.log"
	run ! grep -q dropped "$LOG"
}

@test "logfile: the oldest backups are dropped; log_backups = 0 keeps none" {
	cat >"$INI" <<-EOF
		[supervisor]
		log_max_size = 64K
		log_backups = 2
		[worker w]
		command = $(numbered 5000 90)
		stdout = file:$T/out.log
		[worker z]
		command = $(numbered 5000 90)
		stdout = file:$T/zero.log
		log_backups = 0
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/out.log" '^5000 '
	wait_log "$T/zero.log" '^5000 '
	[ -e "$T/out.log.2" ]
	[ ! -e "$T/out.log.3" ]
	files_under 65536 "$T"/out.log*
	first=$(head -n 1 "$T/out.log.2" | cut -d' ' -f1)
	check_lines "$first" 5000 "$T/out.log.2" "$T/out.log.1" "$T/out.log"
	[ ! -e "$T/zero.log.1" ]
	first=$(head -n 1 "$T/zero.log" | cut -d' ' -f1)
	[ "$first" -gt 1 ]
	check_lines "$first" 5000 "$T/zero.log"
}

@test "logfile: a line longer than log_max_size goes whole into one file" {
	cat >"$INI" <<-EOF
		[worker w]
		command = /bin/sh -c "echo '1 xx 1'; printf '2 '; yes x | head -n 200000 | tr -d '\\n'; echo ' 2'; echo '3 xx 3'; exec sleep 1000"
		stdout = file:$T/out.log
		log_max_size = 16K
		log_backups = 3
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/out.log" '^3 '
	ls -l "$T"
	check_lines 1 3 "$T/out.log.2" "$T/out.log.1" "$T/out.log"
	[ "$(wc -l <"$T/out.log.1")" -eq 1 ]
	[ "$(stat -c %s "$T/out.log.1")" -eq 200005 ]
}

@test "logfile: stdout and stderr to one PATH share it; a worker run as nobody writes into its own pipe" {
	cat >"$INI" <<-EOF
		[worker w]
		command = /bin/sh -c "echo out; echo err >&2; echo via-dev-stdout >/dev/stdout; exec sleep 1000"
		user = nobody
		stdout = file:$T/out.log
		stderr = file:$T/out.log
	EOF
	arbor_bg -c "$INI"
	wait_count "$T/out.log" '^(out|err|via-dev-stdout)$' 3
	W=$(pgrep -P "$(arbor_inner_pid)" -x sleep)
	[[ "$(readlink "/proc/$W/fd/1")" == pipe:* ]]
	[[ "$(readlink "/proc/$W/fd/2")" == pipe:* ]]
	[ "$(stat -L -c %U "/proc/$W/fd/1")" = nobody ]
	# the file is arbor's, as it was when the worker opened it before its
	# set-up dropped root: 0640, root's, one open file in arbor for both
	[ "$(stat -c '%a %U' "$T/out.log")" = "640 root" ]
	[ "$(ls -l "/proc/$(arbor_inner_pid)/fd" | grep -c "$T/out.log")" -eq 1 ]
}

@test "logfile: after an external rename, arborctl reopen sends new lines to a new file; reload and SIGHUP keep it open" {
	cat >"$INI" <<-EOF
		[worker w]
		command = /bin/sh -c 'i=0; while :; do i=\$((i + 1)); echo "\$i xx \$i"; sleep 0.01; done'
		stdout = file:$T/out.log
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/out.log" '^20 '
	mv "$T/out.log" "$T/out.log.1"
	run "$ARBORCTL" reopen
	assert_success
	assert_output "reopened 1 file"
	wait_log "$T/out.log" '^[0-9]+ '
	last=$(tail -n 1 "$T/out.log.1" | cut -d' ' -f1)
	more=$((last + 20))
	wait_log "$T/out.log" "^$more "
	# nothing lost, nothing twice: the new file starts where the old ends
	[ "$(head -n 1 "$T/out.log" | cut -d' ' -f1)" -eq $((last + 1)) ]
	sed "/^$more /q" "$T/out.log" >"$T/head.log"
	check_lines 1 "$more" "$T/out.log.1" "$T/head.log"
	# a reload that changes nothing keeps the file open: a rename now is
	# followed, lines go on into the renamed file
	ino=$(ls -l "/proc/$(arbor_inner_pid)/fd" | grep -c "$T/out.log$")
	[ "$ino" -eq 1 ]
	run "$ARBORCTL" reload
	assert_success
	mv "$T/out.log" "$T/out.log.2"
	n=$(wc -l <"$T/out.log.2")
	wait_until eval "[ \$(wc -l <'$T/out.log.2') -gt $((n + 10)) ]"
	[ ! -e "$T/out.log" ]
	# SIGHUP reloads, as ever: it is no reopen
	kill -HUP "$(arbor_inner_pid)"
	wait_count "$LOG" '^arbor: reloaded / ' 2
	n=$(wc -l <"$T/out.log.2")
	wait_until eval "[ \$(wc -l <'$T/out.log.2') -gt $((n + 10)) ]"
	[ ! -e "$T/out.log" ]
}

@test "logfile: a reopen that fails names the file; its lines are counted until it can be opened" {
	mkdir "$T/d"
	cat >"$INI" <<-EOF
		[worker w]
		command = /bin/sh -c 'i=0; while :; do i=\$((i + 1)); echo "\$i xx \$i"; echo \$i >$T/count; sleep 0.01; done'
		stdout = file:$T/d/out.log
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/d/out.log" '^20 '
	mv "$T/d" "$T/d.old"
	run "$ARBORCTL" reopen
	assert_failure 1
	assert_output "arborctl: reopened 0 files; 1 failed: log $T/d/out.log: No such file or directory"
	gone=$(counted)
	wait_until eval "[ \$(counted) -gt $((gone + 20)) ]"
	mkdir "$T/d"
	wait_log "$LOG" "^arbor: log $T/d/out.log: [0-9]+ lines dropped: No such file or directory$"
	wait_log "$T/d/out.log" '^[0-9]+ '
	dropped=$(sed -nE 's/.* ([0-9]+) lines dropped.*/\1/p' "$LOG")
	last=$(tail -n 1 "$T/d.old/out.log" | cut -d' ' -f1)
	[ "$dropped" -gt 20 ]
	[ "$(head -n 1 "$T/d/out.log" | cut -d' ' -f1)" -eq $((last + dropped + 1)) ]
}

@test "logfile: a nested supervisor's worker: rotated by its supervisor's default, reopened" {
	cat >"$INI" <<-EOF
		[supervisor]
		[supervisor sub]
		log_max_size = 4K
		log_backups = 2
		[worker sub/w]
		command = /bin/sh -c "awk 'BEGIN { for (i = 1; i <= 300; i++) printf \\"%d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx %d\\\\n\\", i, i }'; while [ ! -e $T/go ]; do sleep 0.02; done; echo '301 xx 301'; exec sleep 1000"
		stdout = file:$T/n.log
	EOF
	arbor_bg -c "$INI"
	wait_log "$T/n.log" '^300 '
	[ -e "$T/n.log.2" ]
	[ ! -e "$T/n.log.3" ]
	files_under 4096 "$T"/n.log*
	first=$(head -n 1 "$T/n.log.2" | cut -d' ' -f1)
	check_lines "$first" 300 "$T/n.log.2" "$T/n.log.1" "$T/n.log"
	mv "$T/n.log" "$T/n.log.moved"
	run "$ARBORCTL" reopen
	assert_success
	assert_output "reopened 1 file"
	touch "$T/go"
	wait_log "$T/n.log" '^301 '
	check_lines 301 301 "$T/n.log"
	run ! grep -q '^301 ' "$T/n.log.moved"
}

@test "logfile: a full disk drops lines, logged once; the worker and arbor go on; lines resume" {
	MNT=$T/full
	mkdir -p "$MNT"
	mount -t tmpfs -o size=256k tmpfs "$MNT" || { MNT=; skip "cannot mount a tmpfs here"; }
	cat >"$INI" <<-EOF
		[worker w]
		command = /bin/sh -c 'x=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=0; while :; do i=\$((i + 1)); echo "\$i \$x \$i"; echo \$i >$T/count; sleep 0.005; done'
		stdout = file:$MNT/w.log
	EOF
	arbor_bg -c "$INI"
	wait_log "$MNT/w.log" '^10 '
	W=$(pgrep -P "$(arbor_inner_pid)" -x sh)
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
	full=$(counted)
	# the worker goes on writing while its lines are dropped
	wait_until eval "[ \$(counted) -gt $((full + 200)) ]"
	run "$ARBORCTL" ping
	assert_success
	[ "$(pgrep -P "$(arbor_inner_pid)" -x sh)" = "$W" ]
	run ! grep -q 'lines dropped' "$LOG"
	rm "$MNT/fill"
	freed=$(counted)
	wait_log "$LOG" "^arbor: log $MNT/w.log: [0-9]+ lines dropped: No space left on device$"
	wait_log "$MNT/w.log" "^$((freed + 10)) "
	cat "$LOG"
	[ "$(count_log "$LOG" 'lines dropped')" -eq 1 ]
	dropped=$(sed -nE 's/.* ([0-9]+) lines dropped.*/\1/p' "$LOG")
	[ "$dropped" -gt 100 ]
	# only whole lines in the file (but for the last one, which may be
	# being written); what is missing is what was counted
	sed '$d' "$MNT/w.log" >"$T/snap"
	run ! grep -Ev '^([0-9]+) x+ \1$' "$T/snap"
	upto=$(tail -n 1 "$T/snap" | cut -d' ' -f1)
	[ $((upto - $(wc -l <"$T/snap"))) -eq "$dropped" ]
}

@test "logfile conf: log_max_size and log_backups are checked; arbor check prints them" {
	for bad in 'log_max_size = -1' 'log_max_size = 10X' 'log_max_size = 1T' \
		'log_max_size = 1.5M' 'log_backups = -1' 'log_backups = five' 'log_backups = 1001'; do
		printf '[worker w]\ncommand = /bin/true\nstdout = file:%s/o.log\n%s\n' "$T" "$bad" >"$INI"
		run "$ARBOR" check -c "$INI"
		[ "$status" -eq 78 ] || { echo "$bad: $status $output"; false; }
		assert_output --partial "4: [worker w]: ${bad%% =*} = "
		assert_output --regexp "expected (a size|an integer)"
	done
	printf '[supervisor]\nlog_max_size = 10M\n[worker w]\ncommand = /bin/true\nlog_backups = 0\n' >"$INI"
	run "$ARBOR" check -c "$INI"
	assert_success
	assert_line --partial "root: supervisor strategy=one_for_one intensity=1 period=5 log_max_size=10485760"
	assert_line --partial "log_backups=0"
}
