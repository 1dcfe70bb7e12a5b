#!/usr/bin/env bash
# Mutation check: plants known bugs one at a time and checks that the tests
# catch each of them.
#
#   scripts/mutate.sh            # every mutant in scripts/mutants/
#   scripts/mutate.sh NAME...    # only these (NAME = file name without .patch)
#   scripts/mutate.sh --list     # the mutants and what each plants
#
# Each mutant is scripts/mutants/NAME.patch: a description, a line
# "Packages: ./pkg ..." (the packages whose tests must catch it) and a
# unified diff against the repository. For each mutant the working tree
# (tracked and untracked files that git does not ignore, uncommitted edits
# included) is copied to $MUTATE_DIR/NAME (default
# ${TMPDIR:-/tmp}/plastic-mutate), the patch applied there (git apply: a
# patch that no longer applies is an error), and `go test -count=1` run on
# its packages. The table at the end names, per mutant, the tests that
# failed (caught), or NOT CAUGHT. Exit status 1 when a mutant survives, a
# patch does not apply or a mutant does not compile (a mutant must be a
# wrong program, not a broken one); 0 when every mutant is caught.
# Runs under nice; about 10 minutes for all on 2 busy cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mdir="$root/scripts/mutants"
work="${MUTATE_DIR:-${TMPDIR:-/tmp}/plastic-mutate}"

command -v go >/dev/null || { echo "mutate: go is not on PATH" >&2; exit 2; }
command -v git >/dev/null || { echo "mutate: git is not on PATH" >&2; exit 2; }

desc() { sed -n '1,/^$/p' "$1" | sed '/^$/d'; }
pkgs() { sed -n 's/^Packages: *//p' "$1" | head -n 1; }

names=()
if [ "${1:-}" = "--list" ]; then
	for p in "$mdir"/*.patch; do
		echo "$(basename "$p" .patch)  [$(pkgs "$p")]"
		desc "$p" | sed 's/^/    /'
	done
	exit 0
elif [ $# -gt 0 ]; then
	for n in "$@"; do
		n=$(basename "$n" .patch)
		[ -f "$mdir/$n.patch" ] || { echo "mutate: no mutant $n (no $mdir/$n.patch; see --list)" >&2; exit 2; }
		names+=("$n")
	done
else
	for p in "$mdir"/*.patch; do names+=("$(basename "$p" .patch)"); done
fi

mkdir -p "$work"
rows=()
bad=0
for n in "${names[@]}"; do
	patch="$mdir/$n.patch"
	pk=$(pkgs "$patch")
	if [ -z "$pk" ]; then
		rows+=("$n|ERROR: no 'Packages:' line in $patch")
		bad=1
		continue
	fi
	dir="$work/$n"
	rm -rf "$dir"
	mkdir -p "$dir"
	# the working tree as it is (deleted tracked files are skipped)
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$dir"
	if ! (cd "$dir" && git apply --check "$patch" && git apply "$patch") 2>"$dir.apply.log"; then
		rows+=("$n|ERROR: patch no longer applies (see $dir.apply.log)")
		bad=1
		continue
	fi
	echo "== $n: go test $pk" >&2
	log="$dir.test.log"
	# shellcheck disable=SC2086 # pk is a list of packages
	(cd "$dir" && nice go test -count=1 -timeout 15m $pk) >"$log" 2>&1 || true
	if grep -qE '\[(build|setup) failed\]|^# github\.com/' "$log"; then
		rows+=("$n|ERROR: mutant does not compile (see $log)")
		bad=1
		continue
	fi
	# failing top-level tests, as pkg.TestName, from the text output: a
	# package's "--- FAIL" lines come before its "FAIL <pkg>" line
	caught=$(awk '
		/^--- FAIL: / { t[++nt] = $3 }
		/^FAIL\t/ { p = $2; sub(/.*\//, "", p); for (i = 1; i <= nt; i++) out = out " " p "." t[i]; if (nt == 0) out = out " " p ".(package)"; nt = 0 }
		END { print substr(out, 2) }' "$log")
	if [ -n "$caught" ]; then
		rows+=("$n|caught by $caught")
	else
		rows+=("$n|NOT CAUGHT ($pk pass)")
		bad=1
	fi
done

echo
printf '%-26s %s\n' "mutant" "result"
for r in "${rows[@]}"; do
	printf '%-26s %s\n' "${r%%|*}" "${r#*|}"
done
exit $bad
