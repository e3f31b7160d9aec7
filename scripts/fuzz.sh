#!/bin/sh
# scripts/fuzz.sh SECONDS FUZZER... : run each libFuzzer harness for SECONDS
# on a scratch copy of its saved corpus (fuzz/corpus/NAME), so a short run
# never litters the tree.  Crashes are kept in fuzz/artifacts/.
set -eu
secs=$1
shift
mkdir -p fuzz/artifacts
status=0
for f in "$@"; do
	name=$(basename "$f" | sed 's/^fuzz_//')
	work=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	echo "fuzz: $name for ${secs}s"
	if ! "$f" $dict -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="fuzz/artifacts/$name-" -print_final_stats=0 "$work" \
		>"$work.log" 2>&1; then
		echo "fuzz: $name FAILED; log follows" >&2
		tail -n 60 "$work.log" >&2
		status=1
	else
		grep -E '^#[0-9]+.*(DONE|pulse)' "$work.log" | tail -n 1 || true
	fi
	rm -rf "$work" "$work.log"
done
exit $status
