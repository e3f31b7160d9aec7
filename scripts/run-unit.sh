#!/bin/sh
# Run every unit test binary given; print a total line.
set -u
pass=0 fail=0 bad=""
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | tail -n 20
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		bad="$bad $t"
		[ "${f:-0}" = 0 ] && fail=$((fail + 1))
	fi
done
echo "unit: $pass passed, $fail failed"
[ -z "$bad" ] || { echo "failing unit binaries:$bad" >&2; exit 1; }
