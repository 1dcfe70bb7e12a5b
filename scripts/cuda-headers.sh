#!/usr/bin/env bash
# cuda-headers.sh: fetch the CUDA 11.8 headers and link stubs that the `gpu`
# build tag compiles and links against, from Debian's non-free
# nvidia-cuda-dev package, without touching the machine's apt configuration.
#
# Result (cached, reused when present):
#   ${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8}/usr/include                    (cuda.h, cublas_v2.h, nvrtc.h, ...)
#   ${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8}/usr/lib/x86_64-linux-gnu/stubs (libcuda.so, libcublas.so, libnvrtc.so)
# It prints the root directory on its last line of stdout.
#
# How: a private sources file (the machine's own Debian source with the
# components `contrib non-free` added) and a private lists directory are
# handed to apt-get with -o Dir::Etc::SourceList / Dir::State::Lists; then
# `apt-get download nvidia-cuda-dev` (~774 MB .deb) and `dpkg -x`, keeping only
# usr/include and the stubs (~14 MB + a few MB). Idempotent; safe to rerun.
set -euo pipefail

ROOT=${CUDA_HEADERS_DIR:-$HOME/.cache/plastic/cuda-11.8}
STUBS=$ROOT/usr/lib/x86_64-linux-gnu/stubs
MARK=$ROOT/.complete

die() { echo "cuda-headers.sh: $*" >&2; exit 1; }

if [[ -f $MARK && -f $ROOT/usr/include/cuda.h && -f $ROOT/usr/include/cublas_v2.h \
      && -f $ROOT/usr/include/nvrtc.h && -e $STUBS/libcuda.so ]]; then
	echo "cuda-headers.sh: reusing $ROOT" >&2
	echo "$ROOT"
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian/Ubuntu machine (or set CUDA_HEADERS_DIR to a CUDA 11.8 tree with usr/include and usr/lib/x86_64-linux-gnu/stubs, then create \$CUDA_HEADERS_DIR/.complete)"
command -v dpkg >/dev/null || die "dpkg not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/plastic-cuda-headers.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/archives/partial" "$WORK/deb"

# Build the private source list from the machine's own Debian sources
# (deb822 or one-line format), main suites only, with contrib non-free added.
SRC=$WORK/sources.list
: > "$SRC"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[[ -f $f ]] || continue
	case $f in
	*.sources)
		# deb822: pick URIs/Suites of stanzas whose URIs are a Debian archive.
		awk -v out="$SRC" '
			function flush() {
				if (uris != "" && suites != "" && uris ~ /debian/ && uris !~ /security/) {
					opt = (key != "") ? "[signed-by=" key "] " : ""
					n = split(uris, U, " "); m = split(suites, S, " ")
					for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
						if (S[j] !~ /-updates$|-backports$/)
							print "deb " opt U[i] " " S[j] " main contrib non-free" >> out
				}
				uris = ""; suites = ""; key = ""
			}
			/^[[:space:]]*$/ { flush(); next }
			/^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
			/^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
			/^Signed-By:/ { sub(/^Signed-By:[[:space:]]*/, ""); key = $0 }
			END { flush() }' "$f"
		;;
	*)
		awk '$1 == "deb" && $0 ~ /debian/ && $0 !~ /security/ {
			# drop options in [ ], keep URI and suite
			line = $0; gsub(/\[[^]]*\]/, "", line); split(line, a, /[[:space:]]+/)
			if (a[3] !~ /-updates$|-backports$/) print "deb " a[2] " " a[3] " main contrib non-free"
		}' "$f" >> "$SRC"
		;;
	esac
done
sort -u -o "$SRC" "$SRC"
[[ -s $SRC ]] || die "found no Debian archive in /etc/apt/sources.list{,.d/} to derive a non-free source from"
echo "cuda-headers.sh: using apt source(s):" >&2
sed 's/^/  /' "$SRC" >&2

APT=(apt-get -q
	-o "Dir::Etc::SourceList=$SRC"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$WORK/lists"
	-o "Dir::Cache::Archives=$WORK/archives"
	-o "Dir::Cache::pkgcache=$WORK/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$WORK/srcpkgcache.bin"
	-o "APT::Sandbox::User=root")

echo "cuda-headers.sh: apt-get update (private lists)" >&2
"${APT[@]}" update >&2 || die "apt-get update with the private non-free source failed (no network or no mirror?)"

VER=$("${APT[@]}" -s install nvidia-cuda-dev 2>/dev/null | awk '/^Inst nvidia-cuda-dev /{gsub(/[()]/,"",$3); print $3; exit}')
echo "cuda-headers.sh: nvidia-cuda-dev candidate version: ${VER:-unknown}" >&2
case ${VER:-} in
11.8*|"") ;;
*) echo "cuda-headers.sh: warning: expected CUDA 11.8 (Debian bookworm), got $VER" >&2 ;;
esac

echo "cuda-headers.sh: apt-get download nvidia-cuda-dev (about 774 MB)" >&2
(cd "$WORK/deb" && "${APT[@]}" download nvidia-cuda-dev >&2) || die "apt-get download nvidia-cuda-dev failed"
DEB=$(ls "$WORK"/deb/nvidia-cuda-dev_*.deb 2>/dev/null | head -n1)
[[ -n $DEB ]] || die "no nvidia-cuda-dev .deb was downloaded"

echo "cuda-headers.sh: extracting $(basename "$DEB")" >&2
X=$WORK/x
mkdir -p "$X"
dpkg -x "$DEB" "$X" || die "dpkg -x $DEB failed"
rm -f "$DEB"
[[ -f $X/usr/include/cuda.h ]] || die "the package has no usr/include/cuda.h (layout changed?)"
XSTUBS=$X/usr/lib/x86_64-linux-gnu/stubs
[[ -e $XSTUBS/libcuda.so ]] || die "the package has no stubs/libcuda.so (layout changed?)"

# Keep only the headers and the link stubs; install atomically.
NEW=$ROOT.new.$$
rm -rf "$NEW"
mkdir -p "$NEW/usr/lib/x86_64-linux-gnu"
mv "$X/usr/include" "$NEW/usr/include"
mv "$XSTUBS" "$NEW/usr/lib/x86_64-linux-gnu/stubs"
# Unversioned names the linker looks for, next to the stubs.
for lib in cuda cublas nvrtc; do
	[[ -e $NEW/usr/lib/x86_64-linux-gnu/stubs/lib$lib.so ]] || die "stub lib$lib.so missing"
done
echo "${VER:-unknown}" > "$NEW/VERSION"
touch "$NEW/.complete"
mkdir -p "$(dirname "$ROOT")"
rm -rf "$ROOT"
mv "$NEW" "$ROOT"
echo "cuda-headers.sh: installed headers and stubs in $ROOT ($(du -sh "$ROOT" | cut -f1))" >&2
echo "$ROOT"
