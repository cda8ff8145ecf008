#!/usr/bin/env bats
# arbor shipped as a container's init: the control socket's default for a
# non-root uid, then a real container runtime (podman with runc) running an
# image made from nothing but the static binaries, busybox, /etc/passwd,
# /etc/group and an INI file, with arbor as PID 1.

load helper

# A uid of this run's own: tests of other checkouts may run at once, and
# the per-uid socket directory is named after it.
TUID=$((20000 + $$ % 20000))

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
	container_teardown
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

@test "socket: root's default, /run/arbor.sock: /run is made in an image that has none" {
	ldd "$ARBOR" | grep -q "statically linked" || skip "this build is dynamic (SANITIZE=1 or VALGRIND=1): the chroot needs the static one"
	socket_setup
	local R=$S/root
	mkdir -p "$R/sbin" "$R/etc"
	cp "$ARBOR" "$R/sbin/arbor"
	cp "$WORKERS/counter" "$R/sbin/counter"
	printf '[worker c]\ncommand = /sbin/counter\ngenserver = yes\n' >"$R/etc/tree.ini"
	LOG=$S/arbor.log
	unshare -pf --mount-proc chroot "$R" /sbin/arbor -c /etc/tree.ini </dev/null >/dev/null 2>"$LOG" &
	ARBOR_PID=$!
	wait_log "$LOG" "ready"
	assert_equal "$(stat -c '%a %U' "$R/run")" "755 root"
	[ -S "$R/run/arbor.sock" ]
	assert_equal "$("$ARBORCTL" -S "$R/run/arbor.sock" call c increment)" 1
}

# ---- a real container: podman, runc, an image made from a tar ----

# libs_of FILE: the libraries FILE needs inside the image, when it is not
# static (SANITIZE=1 and VALGRIND=1 build dynamically).
libs_of() {
	local lib
	ldd "$1" >/dev/null 2>&1 || return 0	# static: nothing
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[ -e "$ROOTFS$lib" ] || install -D -m 0755 "$lib" "$ROOTFS$lib"
	done
}

# The image: the root of the Dockerfile's last stage (make rootfs) and
# busybox, for a shell to look around with.
make_rootfs() {
	local a f
	ROOTFS=$BATS_FILE_TMPDIR/rootfs
	make -s -C "$ROOT" rootfs B="$BUILD" ROOTFS="$ROOTFS" >/dev/null
	for f in sbin/arbor usr/bin/arborctl usr/libexec/arbor/counter usr/libexec/arbor/agent usr/libexec/arbor/waiter; do
		libs_of "$ROOTFS/$f"
	done
	mkdir -p "$ROOTFS"/{bin,proc,dev,sys}
	install -m 0755 /bin/busybox "$ROOTFS/bin/busybox"
	libs_of "$ROOTFS/bin/busybox"
	for a in sh sleep cat kill test true rm; do ln -s busybox "$ROOTFS/bin/$a"; done
}

# The host's hard limits: podman's defaults exceed them, and runc fails to
# raise a limit past the hard one. nproc stays within pid_max.
host_ulimits() {
	local nofile nproc max
	nofile=$(ulimit -Hn)
	[ "$nofile" = unlimited ] && nofile=$(cat /proc/sys/fs/nr_open)
	nproc=$(ulimit -Hu)
	max=$(cat /proc/sys/kernel/pid_max)
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$max" ]; then nproc=$max; fi
	echo "--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
}

setup_file() {
	# names of this run's own, cleaned up by teardown_file
	export RUN_ID=arbor-test-$$ PODMAN_SKIP= PODMAN_OPTS
	export IMAGE=localhost/$RUN_ID:latest IMAGE_DF=localhost/$RUN_ID-dockerfile:latest
	if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
		PODMAN_SKIP="podman or runc is not installed (make test-deps installs them)"
		return 0
	fi
	PODMAN_OPTS="--runtime runc --network none --log-driver k8s-file $(host_ulimits)"
	make_rootfs
	# podman kube play builds a pause image once: it goes if it was not there
	export PAUSE_NEW=1
	podman images -q --filter reference=localhost/podman-pause | grep -q . && PAUSE_NEW=
	if ! tar -C "$ROOTFS" -c . | podman import -q --change 'ENTRYPOINT ["/sbin/arbor"]' \
		--change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' - "$IMAGE" \
		>"$BATS_FILE_TMPDIR/import.log" 2>&1; then
		PODMAN_SKIP="podman cannot import an image here: $(tail -n1 "$BATS_FILE_TMPDIR/import.log")"
		return 0
	fi
	# shellcheck disable=SC2086
	if ! podman run --rm $PODMAN_OPTS --entrypoint /bin/true "$IMAGE" >"$BATS_FILE_TMPDIR/probe.log" 2>&1; then
		PODMAN_SKIP="podman cannot run a container here: $(tail -n1 "$BATS_FILE_TMPDIR/probe.log")"
	fi
}

teardown_file() {
	command -v podman >/dev/null || return 0
	podman ps -aq --filter "label=arbor.test=$RUN_ID" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
	podman pod rm -f "$RUN_ID-pod" >/dev/null 2>&1 || true
	podman rmi -f "$IMAGE" "$IMAGE_DF" >/dev/null 2>&1 || true
	[ -z "${PAUSE_NEW:-}" ] ||
		podman images -q --filter reference=localhost/podman-pause | xargs -r podman rmi >/dev/null 2>&1 || true
}

# Each test says why it cannot run, never passing silently.
need_podman() {
	[ -z "$PODMAN_SKIP" ] || skip "$PODMAN_SKIP"
	C=$RUN_ID-$BATS_TEST_NUMBER
}

# crun ARGS...: podman run with what this machine needs, labelled for
# clean-up.
crun() {
	# shellcheck disable=SC2086
	podman run --label "arbor.test=$RUN_ID" $PODMAN_OPTS "$@"
}

# cstart [OPTS...]: the image's tree, arbor (the entrypoint) as PID 1,
# until it is ready.
cstart() {
	crun -d --name "$C" "$@" "$IMAGE" -c /etc/arbor/arbor.ini >/dev/null
	wait_until clog_has '^arbor: ready / '
}

clog() { podman logs "$C" 2>&1; }
clog_has() { clog | grep -Eq -- "$1"; }
cx() { podman exec "$C" "$@"; }

# The host pid of arbor (the container's PID 1), and of a worker.
arbor_hpid() { podman inspect -f '{{.State.Pid}}' "$C"; }
worker_hpid() { pgrep -P "$(arbor_hpid)" -f "/usr/libexec/arbor/$1"; }

# teardown for the container tests: the container goes, whatever happened.
container_teardown() {
	[ -z "${C:-}" ] || podman rm -f -t 0 "$C" >/dev/null 2>&1 || true
}

@test "container: the static arbor boots the tree as PID 1 of an image of its own files, a worker as nobody" {
	need_podman
	if ! sanitized && [ -z "${ARBOR_VALGRIND:-}" ]; then	# those build dynamically
		run ldd "$ARBOR"
		assert_output --partial "statically linked"
	fi
	cstart
	assert_equal "$(cx cat /proc/1/cmdline | tr '\0' ' ')" "/sbin/arbor -c /etc/arbor/arbor.ini "
	run cx arborctl status
	assert_success
	assert_line --regexp '^counter +worker +[0-9]+ +running'
	assert_line --regexp '^agent +worker +[0-9]+ +running'
	pid=$(cx arborctl status agent --json | jq -r .pid)
	assert_regex "$(cx cat "/proc/$pid/status")" $'Uid:\t65534\t65534\t65534\t65534'
	run cx arborctl call agent put colour blue
	assert_success
	assert_equal "$(cx arborctl call agent get colour)" blue
}

@test "container: podman exec arborctl call counter increment" {
	need_podman
	cstart
	assert_equal "$(cx arborctl call counter increment)" 1
	assert_equal "$(cx arborctl call counter increment)" 2
	assert_equal "$(cx arborctl call counter get_value)" 2
}

@test "container: kill -9 of a worker from the host brings it back; arborctl ping is the probe" {
	need_podman
	cstart
	cx arborctl ping
	cx arborctl call counter increment
	old=$(worker_hpid counter)
	[ -n "$old" ]
	kill -9 "$old"
	wait_until clog_has "^arbor: exited counter .*signal=SIGKILL"
	wait_until cx arborctl ping
	new=$(worker_hpid counter)
	[ -n "$new" ] && [ "$new" != "$old" ]
	assert_equal "$(cx arborctl call counter increment)" 1	# a fresh state
	assert_equal "$(clog | grep -c '^arbor: started counter ')" 2
}

@test "container: an orphan reparented to arbor is reaped, no zombie is left" {
	need_podman
	cstart
	# sh exits at once: its child sleep goes to PID 1 (arbor)
	pid=$(cx sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
	assert_regex "$(cx cat "/proc/$pid/stat")" "^$pid \\(sleep\\) [SR] 1 "
	cx kill "$pid"
	wait_until bash -c "! podman exec $C test -e /proc/$pid"	# a zombie would stay
	# every process of the container, by state: none is a zombie
	run bash -c "podman exec $C sh -c 'cat /proc/[0-9]*/stat 2>/dev/null' | awk '\$3 == \"Z\"'"
	assert_success
	assert_output ""
}

@test "container: podman stop stops the tree in order and the container exits 0" {
	need_podman
	cstart
	podman stop -t 30 "$C" >/dev/null
	assert_equal "$(podman inspect -f '{{.State.ExitCode}}' "$C")" 0
	run clog
	assert_line --regexp '^arbor: stopped agent pid=[0-9]+ '
	assert_line --regexp '^arbor: stopped counter pid=[0-9]+ '
	assert_line --regexp '^arbor: shut down / status=0'
	# the last started stops first, as OTP stops children
	assert_regex "$(clog | grep -E '^arbor: (started|stopped) ' | cut -d' ' -f2,3 | tr '\n' ' ')" \
		'^started counter started agent stopped agent stopped counter $'
}

@test "container: --user 65534:65534 runs the same image, the socket found with no path set" {
	need_podman
	cstart --user 65534:65534
	cx test -S /tmp/arbor-65534/arbor.sock
	cx arborctl ping
	assert_equal "$(cx arborctl call counter increment)" 1
	assert_regex "$(cx cat /proc/1/status)" $'Uid:\t65534\t65534\t65534\t65534'
	podman stop -t 30 "$C" >/dev/null
	assert_equal "$(podman inspect -f '{{.State.ExitCode}}' "$C")" 0
}

@test "container: arbor -- CMD as the entrypoint passes CMD's exit status on" {
	need_podman
	run crun --rm "$IMAGE" -- /bin/sh -c 'exit 7'
	assert_equal "$status" 7
	run crun --rm "$IMAGE" -- /bin/sh -c 'kill -TERM $$'
	assert_equal "$status" 143
	run crun --rm "$IMAGE" -- /bin/sh -c 'read -r pid comm state ppid rest </proc/$$/stat; echo "$comm $ppid"'
	assert_success
	assert_output "(sh) 1"
}

# The Dockerfile's Debian stage needs a registry, which the tests do not
# count on: --build-context gives its name to a directory holding what it
# would have made (make rootfs), and the last stage is built for real.
@test "container: the Dockerfile's image holds only arbor's files, runs the tree, exits 0" {
	need_podman
	local ctx=$BATS_TEST_TMPDIR/ctx
	ldd "$ARBOR" | grep -q "statically linked" || skip "this build is dynamic (SANITIZE=1 or VALGRIND=1): the scratch image needs the static one"
	make -s -C "$ROOT" rootfs B="$BUILD" ROOTFS="$ctx/rootfs" >/dev/null
	run podman build -q --format docker --network none --build-context build="$ctx" \
		-t "$IMAGE_DF" -f "$ROOT/Dockerfile" "$ROOT"
	assert_success
	assert_equal "$(podman image inspect -f '{{json .Config.Entrypoint}}' "$IMAGE_DF")" '["/sbin/arbor"]'
	assert_regex "$(podman image inspect -f '{{json .Config.Healthcheck.Test}}' "$IMAGE_DF")" \
		'"/usr/bin/arborctl","ping"'
	crun -d --name "$C" --no-healthcheck "$IMAGE_DF" -c /etc/arbor/arbor.ini >/dev/null
	wait_until clog_has '^arbor: ready / '
	cx /usr/bin/arborctl ping
	assert_equal "$(cx /usr/bin/arborctl call counter increment)" 1
	assert_equal "$(cx /usr/bin/arborctl call agent put k v)" ok
	run bash -c "podman export $C | tar -t | grep -v '/\$' | grep -Ev '^(etc/(hosts|hostname|resolv.conf|mtab)|run/.*|proc|sys|dev.*)\$' | sort | tr '\n' ' '"
	assert_output "etc/arbor/arbor.ini etc/group etc/passwd sbin/arbor usr/bin/arborctl usr/libexec/arbor/agent usr/libexec/arbor/counter usr/libexec/arbor/waiter "
	podman stop -t 30 "$C" >/dev/null
	assert_equal "$(podman inspect -f '{{.State.ExitCode}}' "$C")" 0
}

# conf/k8s-pod.yaml under podman kube play, with the test image: podman
# 4.3 runs an exec probe through /bin/sh (as CMD-SHELL), which only the
# test image has; Kubernetes itself runs it directly.
@test "kube: podman kube play runs conf/k8s-pod.yaml as uid 65534; the arborctl ping probe passes, and fails without arbor's socket" {
	need_podman
	command -v catatonit >/dev/null || skip "podman kube play needs catatonit for its pause image (make test-deps installs it)"
	local yaml=$BATS_TEST_TMPDIR/pod.yaml pod=$RUN_ID-pod
	export CONTAINERS_CONF=$BATS_TEST_TMPDIR/containers.conf
	local u
	u=$(host_ulimits | sed 's/--ulimit //g')
	printf '[containers]\ndefault_ulimits = ["%s", "%s"]\nlog_driver = "k8s-file"\n[engine]\nruntime = "runc"\n' \
		${u% *} ${u#* } >"$CONTAINERS_CONF"
	sed -e "s|image: localhost/arbor:latest|image: $IMAGE|" -e "s|^  name: arbor\$|  name: $pod|" \
		"$ROOT/conf/k8s-pod.yaml" >"$yaml"
	grep -q "name: $pod" "$yaml"
	C=$pod-tree
	run podman kube play --network none "$yaml"
	assert_success
	wait_until clog_has '^arbor: ready / '
	assert_regex "$(cx cat /proc/1/status)" $'Uid:\t65534\t65534\t65534\t65534'
	assert_equal "$(podman inspect -f '{{json .Config.Healthcheck.Test}}' "$C")" \
		'["CMD-SHELL","/usr/bin/arborctl","ping","||","exit","1"]'
	run podman healthcheck run "$C"
	assert_success
	assert_equal "$(cx arborctl call counter increment)" 1
	cx rm /tmp/arbor-65534/arbor.sock	# the probe now finds no arbor
	run podman healthcheck run "$C"
	assert_failure
	podman pod stop -t 30 "$pod" >/dev/null
	assert_equal "$(podman inspect -f '{{.State.ExitCode}}' "$C")" 0
	assert_regex "$(clog)" 'arbor: shut down / status=0'
	podman pod rm -f "$pod" >/dev/null
}

# ---- make install ----

# unstripped FILE: it still has a symbol table.
unstripped() { readelf -S "$1" | grep -q '\.symtab'; }

@test "install: stripped binaries, workers in libexec/arbor, arbor.h and libarbor.a for -dev" {
	local T=$BATS_TEST_TMPDIR D flags=
	D=$T/dest
	# a copy of the build: the suite's own binaries stay as they are
	cp -a "$BUILD" "$T/build"
	sanitized && flags=SANITIZE=1
	grep -q static-pie "$BUILD/.flags" || flags="$flags STATIC=0"
	# shellcheck disable=SC2086
	run make -C "$ROOT" install B="$T/build" DESTDIR="$D" PREFIX=/usr $flags
	assert_success
	for f in sbin/arbor bin/arborctl libexec/arbor/counter libexec/arbor/agent libexec/arbor/waiter; do
		[ -x "$D/usr/$f" ] || fail "$f is not installed"
		unstripped "$T/build/${f##*/}" || fail "$f in the build has no symbols to strip"
		! unstripped "$D/usr/$f" || fail "$f is not stripped"
	done
	[ -f "$D/usr/include/arbor.h" ] && [ -f "$D/usr/lib/libarbor.a" ]
	[ -f "$D/usr/share/man/man8/arbor.8" ] && [ -f "$D/usr/share/man/man8/arborctl.8" ]
	[ -f "$D/usr/share/man/man5/arbor.ini.5" ] && [ -f "$D/usr/share/man/man3/libarbor.3" ]
	# nothing else beside the man pages
	assert_equal "$(cd "$D/usr" && find . -type f ! -path './share/man/*' | sort | tr '\n' ' ')" \
		"./bin/arborctl ./include/arbor.h ./lib/libarbor.a ./libexec/arbor/agent ./libexec/arbor/counter ./libexec/arbor/waiter ./sbin/arbor "
	run "$D/usr/sbin/arbor" --version
	assert_success
	# a worker built against the installed -dev files alone
	local san=
	sanitized && san=-fsanitize=address,undefined	# libarbor.a is built so
	cc $san -I"$D/usr/include" -o "$T/w" "$ROOT/workers/counter.c" "$D/usr/lib/libarbor.a"
	printf '[worker c]\ncommand = %s\ngenserver = yes\n[worker d]\ncommand = %s\n' \
		"$T/w" "$D/usr/libexec/arbor/agent" >"$T/t.ini"
	run "$D/usr/sbin/arbor" check -c "$T/t.ini"
	assert_success
}
