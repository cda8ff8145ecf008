#!/usr/bin/env bats
# The libFuzzer harnesses (tests/fuzz/, issue 8) build, and each runs once
# over its seed corpus, where every crash ever found is kept as a
# regression input. `make fuzz FUZZ_S=600` is the real run.

load helper

setup() {
	command -v clang >/dev/null || skip "clang is not installed (Debian: clang libclang-rt-dev)"
	printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }\n' \
		>"$BATS_TEST_TMPDIR/probe.c"
	clang -fsanitize=fuzzer -o "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/probe.c" \
		2>/dev/null || skip "clang has no libFuzzer here (Debian: libclang-rt-dev)"
	export ARBOR_BUILD=$BATS_TEST_TMPDIR/b
}

@test "fuzz: the INI loader's harness builds and survives its seeds (includes too)" {
	run "$ROOT/scripts/fuzz" --seeds conf
	assert_success
	assert_output --regexp 'fuzz_conf: [0-9]+ seeds, no crash'
}

@test "fuzz: the frame decoder's harness builds and survives its seeds" {
	run "$ROOT/scripts/fuzz" --seeds frame
	assert_success
	assert_output --regexp 'fuzz_frame: [0-9]+ seeds, no crash'
}

@test "fuzz: a broken decoder fails the seed check (the check can fail)" {
	# a copy of the sources whose decoder lets frames over max_message
	# through: the harness's invariants must catch it on the seeds
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/scripts" "$src/tests"
	cp -r "$ROOT/init" "$ROOT/workers" "$src/"
	cp -r "$ROOT/tests/fuzz" "$src/tests/"
	cp "$ROOT/scripts/fuzz" "$ROOT/scripts/apt-need" "$src/scripts/"
	sed -i 's/if (len > max)/if (len > max + 1000)/' "$src/workers/frame.c"
	grep -q 'len > max + 1000' "$src/workers/frame.c"
	run "$src/scripts/fuzz" --seeds frame
	assert_failure
	assert_output --partial 'fuzz_frame crashed on a seed'
}
