#!/usr/bin/env bash
# `cmake --install` gives a usable package, as C libraries ship: a shared libkcb.so with a soname
# that exports the public API and nothing else, a static libkcb.a, kcb.pc and a CMake package. A
# consumer builds and runs both ways with find_package(kcb) (kcb::kcb, kcb::kcb_static) and with
# pkg-config (plain --libs links the shared library; --static the archive). The man pages and the
# bash completion are installed too. Usage: tests/cli/install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install: $*"; exit 1; }
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
lib=$prefix/lib
[ -d "$lib/pkgconfig" ] || lib=$(dirname "$(find "$prefix" -name kcb.pc)")/..
version=$("$build"/tools/kcb-train --version | cut -d' ' -f2)

# the shared library: soname, and exactly the public functions of the headers exported
readelf -d "$lib/libkcb.so" | grep -q "Library soname: \[libkcb.so.${version%%.*}\]" || fail "no soname libkcb.so.${version%%.*}"
nm -D --defined-only "$lib/libkcb.so" | awk '{print $3}' | sort -u >"$tmp/exported"
grep -ohE '\bkcb_[a-z0-9_]+\(' "$prefix"/include/kcb/*.h | tr -d '(' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || fail "no declarations found in the installed headers"
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
  diff "$tmp/declared" "$tmp/exported" | head -20
  fail "libkcb.so exports other symbols than the headers declare (< declared only, > exported only)"
fi
test -f "$lib/libkcb.a" || fail "no libkcb.a"
# the static library's global names all start with kcb (kcb_ the API, kcb__ and kcbpb__ internals and
# the protobuf-c messages), so none collides with a program's own (its protobuf-c code, say)
others=$(nm -g --defined-only "$lib/libkcb.a" | awk 'NF == 3 && $3 !~ /^kcb/ {print $3}' | head -5)
[ -z "$others" ] || fail "libkcb.a defines global names outside kcb*: $others"

# find_package: kcb::kcb (shared) and kcb::kcb_static
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer" | grep -qx "$version 0" || fail "find_package consumer (shared) does not run"
ldd "$tmp/consumer/consumer" | grep -q "libkcb.so.${version%%.*} => $lib/" || fail "kcb::kcb does not link libkcb.so"
"$tmp/consumer/consumer_static" | grep -qx "$version 0" || fail "find_package consumer (static) does not run"
! ldd "$tmp/consumer/consumer_static" | grep -q libkcb || fail "kcb::kcb_static links libkcb.so"

# kcb.pc finds its prefix from where it lies, however deep the library directory (Debian's
# lib/x86_64-linux-gnu, given as CMAKE_INSTALL_LIBDIR): written for that layout, it names the
# include directory of the prefix two levels further up
multi=$tmp/multi/lib/x86_64-linux-gnu/pkgconfig
mkdir -p "$multi" "$tmp/multi/include"
cmake -DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu -DCMAKE_INSTALL_INCLUDEDIR=include -DPROJECT_VERSION="$version" \
  -DOUT="$multi/kcb.pc" -P "$src/tests/install/write_pc.cmake" >/dev/null || fail "kcb_write_pc failed"
inc=$(PKG_CONFIG_PATH=$multi pkg-config --variable=includedir kcb)
[ "$(cd "$inc" 2>/dev/null && pwd -P)" = "$(cd "$tmp/multi/include" && pwd -P)" ] || fail "kcb.pc under lib/x86_64-linux-gnu names $inc"

# pkg-config: plain --libs links (the shared library); --static, the archive and its dependencies
export PKG_CONFIG_PATH=$lib/pkgconfig
cc -std=c11 "$src/tests/install/main.c" -o "$tmp/pc" $(pkg-config --cflags --libs kcb) -Wl,-rpath,"$lib"
"$tmp/pc" | grep -qx "$version 0" || fail "pkg-config --libs consumer does not run"
ldd "$tmp/pc" | grep -q "libkcb.so.${version%%.*} => $lib/" || fail "pkg-config --libs does not link libkcb.so"
# kcb.pc stands alone: without the dependencies' own .pc files (their -dev packages) it still
# answers, and adds no include directory of theirs (no public header includes them)
flags=$(PKG_CONFIG_LIBDIR=$lib/pkgconfig pkg-config --cflags --libs kcb) || fail "kcb.pc needs other .pc files"
[ "$flags" = "-I$prefix/include -L$lib -lkcb" ] || [ "$(printf '%s' "$flags" | tr ' ' '\n' | grep -c '^-I')" = 1 ] ||
  fail "pkg-config --cflags --libs kcb adds the dependencies' flags: $flags"
static_libs=$(pkg-config --static --libs kcb)
cc -std=c11 "$src/tests/install/main.c" -o "$tmp/pc_static" $(pkg-config --cflags kcb) ${static_libs/-lkcb/-l:libkcb.a}
"$tmp/pc_static" | grep -qx "$version 0" || fail "pkg-config --static consumer does not run"
! ldd "$tmp/pc_static" | grep -q libkcb || fail "pkg-config --static consumer links libkcb.so"

test -x "$prefix/bin/kcb-train" || fail "no kcb-train"
for page in man1/kcb-train.1 man1/kcb-inspect.1 man1/kcb-restore.1 man3/kcb.3; do
  test -f "$prefix/share/man/$page" || fail "no man page $page"
  man -l "$prefix/share/man/$page" >/dev/null 2>"$tmp/man.err" || fail "man cannot format $page"
  [ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err"; fail "warnings formatting $page"; }
done
test -f "$prefix/share/bash-completion/completions/kcb-train" || fail "no bash completion"
# kcb(3)'s EXAMPLE is a whole program: it builds against the installed library and runs
sed -n '/^\.EX/,/^\.EE/p' "$prefix/share/man/man3/kcb.3" | sed '1d;$d' | sed 's/\\en/\\n/g' >"$tmp/man_example.c"
cc -std=c11 -Wall -Wextra -Werror "$tmp/man_example.c" -o "$tmp/man_example" $(pkg-config --cflags --libs kcb) -Wl,-rpath,"$lib" ||
  fail "kcb(3)'s example does not compile"
if [ -d /usr/share/datasets/fashion-mnist ]; then
  (cd "$tmp" && ./man_example >/dev/null && grep -q '^epoch,loss' log.csv) || fail "kcb(3)'s example does not run"
fi
echo "install: libkcb.so (soname, public API only), libkcb.a, find_package and pkg-config both ways, man pages (kcb(3) example runs), completion"
