#!/usr/bin/env bats
# Setting up on a fresh Debian: ./setup installs make first, apt-need says
# what it installs as it comes (and starts no service), the build check
# notices missing headers, and run-tests reports each suite as it ends.
# apt-get, dpkg-query and make are stand-ins here: nothing is installed.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/bin"
}

# stub NAME BODY: a program NAME in $T/bin that runs the sh code BODY.
stub() {
	printf '#!/bin/sh\n%s\n' "$2" >"$T/bin/$1"
	chmod +x "$T/bin/$1"
}

@test "setup: with no make, ./setup installs it, then runs make with its arguments" {
	mkdir -p "$T/src/scripts"
	cp "$ROOT/setup" "$T/src/"
	# apt-need installs make: here, a make that says what it was asked
	printf '#!/bin/sh\necho "apt-need $*" >>%s/calls\nprintf "#!/bin/sh\\necho make \\"\\$*\\" >>%s/calls\\n" >%s/bin/make\nchmod +x %s/bin/make\n' \
		"$T" "$T" "$T" "$T" >"$T/src/scripts/apt-need"
	chmod +x "$T/src/scripts/apt-need"
	for p in sh dirname chmod printf; do
		ln -s "$(command -v $p)" "$T/bin/$p"
	done
	run env PATH="$T/bin" "$T/src/setup" demo
	assert_success
	run cat "$T/calls"
	assert_output "$(printf 'apt-need make\nmake demo')"
	# with make there, ./setup is make
	run env PATH="$T/bin" "$T/src/setup" check
	run tail -n 1 "$T/calls"
	assert_output "make check"
}

@test "build-ok: a compiler without libc's headers is not enough to build" {
	run "$ROOT/scripts/build-ok" inih libcap-ng
	assert_success
	# gcc without libc6-dev: no errno.h
	run env CC="cc -nostdinc" "$ROOT/scripts/build-ok" inih libcap-ng
	assert_failure
	run env CC=no-such-cc "$ROOT/scripts/build-ok" inih libcap-ng
	assert_failure
	run "$ROOT/scripts/build-ok" inih no-such-package-here
	assert_failure
	# and make deps then installs what a build needs, libc6-dev included
	run make -s -n -C "$ROOT" deps CC="cc -nostdinc"
	assert_output --regexp 'scripts/apt-need .*gcc libc6-dev .*libinih-dev libcap-ng-dev'
	run make -s -n -C "$ROOT" demo
	assert_output --regexp 'scripts/apt-need procps'
}

@test "apt-need: names what is missing, shows the download, starts no service" {
	stub dpkg-query 'case $3 in present) echo "install ok installed" ;; esac'
	stub find 'exit 0'	# the package lists are old: update them
	stub apt-get "
case \$1 in
update) echo 'Hit:1 http://deb.example bookworm InRelease'; echo 'Reading package lists...' ;;
install) [ -x $T/policy-rc.d ] && $T/policy-rc.d; echo \"policy \$?\" >$T/policy
	echo 'Reading package lists...'
	echo 'Need to get 1234 kB of archives.'
	echo 'Get:1 http://deb.example bookworm/main amd64 gone1 1.0 [1000 kB]'
	echo 'Get:2 http://deb.example bookworm/main amd64 gone2 1.0 [234 kB]'
	echo 'Fetched 1234 kB in 0s'
	echo 'Unpacking gone1 (1.0) ...'
	echo 'Setting up gone1 (1.0) ...' ;;
esac"
	run env PATH="$T/bin:$PATH" APT_NEED_POLICY="$T/policy-rc.d" \
		"$ROOT/scripts/apt-need" present gone1 gone2
	assert_success
	assert_line "arbor: installing from Debian: gone1 gone2"
	assert_line "arbor: apt-get update"
	assert_line "arbor: apt-get install --no-install-recommends gone1 gone2"
	assert_line "    Need to get 1234 kB of archives."
	assert_line "    Get:1 http://deb.example bookworm/main amd64 gone1 1.0 [1000 kB]"
	assert_line "    Setting up gone1 (1.0) ..."
	refute_line --partial "Unpacking"
	refute_line --partial "Reading package lists"
	# services were told not to start during the install, and the
	# policy is gone after it
	[ "$(cat "$T/policy")" = "policy 101" ]
	[ ! -e "$T/policy-rc.d" ]
	# nothing missing: silent, and apt-get is not run
	rm "$T/policy"
	run env PATH="$T/bin:$PATH" "$ROOT/scripts/apt-need" present
	assert_success
	assert_output ""
	[ ! -e "$T/policy" ]
}

@test "run-tests: a line per suite as it ends, the failures' TAP, then the counts" {
	mkdir -p "$T/s"
	printf '@test "fine" { true; }\n@test "also fine" { true; }\n' >"$T/s/good.bats"
	printf '@test "fine" { true; }\n@test "broken" { false; }\n' >"$T/s/bad.bats"
	printf '@test "later" { skip "not now"; }\n' >"$T/s/skip.bats"
	run env ARBOR_TEST_LOGS="$T/logs" ARBOR_TEST_JOBS=1 "$ROOT/scripts/run-tests" \
		"$T/s/good.bats" "$T/s/bad.bats" "$T/s/skip.bats"
	assert_failure
	assert_line --regexp "^  ok   $T/s/good.bats +2 passed, 0 failed  [0-9]+s\$"
	assert_line --regexp "^  FAIL $T/s/bad.bats +1 passed, 1 failed  [0-9]+s\$"
	assert_line --regexp "^  ok   $T/s/skip.bats +1 passed, 0 failed \\(1 skipped\\)  [0-9]+s\$"
	assert_line "not ok 2 broken"
	refute_line "ok 2 also fine"	# only the failures' TAP is printed
	[ "${lines[${#lines[@]} - 1]}" = "4 passed, 1 failed" ]
	[ -s "$T/logs/$(echo "$T/s/good.bats" | tr / _).tap" ]
}
