#!/usr/bin/env bash
# `make` writes only inside the tree; `make install` honours PREFIX= and
# DESTDIR=, and what it installs is usable as a library user would use it
# (pkg-config, headers, the shared library, the binaries). Needs no root:
# everything goes under a temporary directory. (A second `all:` rule once
# carried the install recipe: plain `make` copied into /usr/local, failed for
# a non-root user, and `make install PREFIX=DIR` did nothing.)
set -u
cd "$(dirname "$0")/.."
. tests/support/tap.sh "install" 5
MAKE=${MAKE:-make}
mk() { $MAKE --no-print-directory BUILD="$BUILD" "$@" >>"$tmp/make.log" 2>&1; }

# 1. plain make (and what make test / make demo run) installs nothing, wherever PREFIX points
mk PREFIX="$tmp/never" all; rc=$?
[ "$rc" -eq 0 ] && [ ! -e "$tmp/never" ]; r=$?
check "plain make (PREFIX=$tmp/never) builds (exit $rc) and writes nothing outside the tree" $r

# 2. PREFIX
mk install PREFIX="$tmp/prefix"; rc=$?
missing=""
for f in lib/libseqcast.a lib/libseqcast.so lib/libseqcast.so.0 lib/pkgconfig/seqcast.pc \
         include/seqcast/pub.h include/seqcast/sub.h include/seqcast/order.h bin/seqcast-pub \
         bin/seqcast-sub bin/seqcast-orderd; do
    [ -e "$tmp/prefix/$f" ] || missing="$missing $f"
done
[ "$rc" -eq 0 ] && [ -z "$missing" ] && grep -qx "prefix=$tmp/prefix" "$tmp/prefix/lib/pkgconfig/seqcast.pc"; r=$?
check "make install PREFIX=DIR puts the library, headers, seqcast.pc (prefix=DIR) and binaries in DIR (exit $rc${missing:+; missing:$missing})" $r

# 3. an example builds against the installed copy through pkg-config and runs
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
if cc -std=c11 -D_GNU_SOURCE examples/pubsub.c $(pkg-config --cflags --libs seqcast) -o "$tmp/pubsub" \
        >>"$tmp/make.log" 2>&1 &&
   out=$(LD_LIBRARY_PATH=$tmp/prefix/lib timeout 30 "$tmp/pubsub" 2>&1) &&
   LD_LIBRARY_PATH=$tmp/prefix/lib ldd "$tmp/pubsub" | grep -q "$tmp/prefix/lib/libseqcast.so"; then r=0; else r=1; fi
check "examples/pubsub.c builds with \`pkg-config --cflags --libs seqcast\` from PREFIX and runs on its libseqcast.so: $(echo "${out:-}" | tail -1)" $r

# 4. DESTDIR stages under DIR while seqcast.pc keeps the real prefix
mk install DESTDIR="$tmp/stage" PREFIX=/opt/seqcast; rc=$?
[ "$rc" -eq 0 ] && [ -e "$tmp/stage/opt/seqcast/lib/libseqcast.so.0" ] &&
    [ -e "$tmp/stage/opt/seqcast/include/seqcast/pub.h" ] && [ -x "$tmp/stage/opt/seqcast/bin/seqcast-pub" ] &&
    grep -qx "prefix=/opt/seqcast" "$tmp/stage/opt/seqcast/lib/pkgconfig/seqcast.pc" && [ ! -e /opt/seqcast/lib/libseqcast.so.0 ]; r=$?
check "make install DESTDIR=STAGE PREFIX=/opt/seqcast stages everything under STAGE/opt/seqcast, seqcast.pc says prefix=/opt/seqcast (exit $rc)" $r

# 5. uninstall removes what install put there
mk uninstall PREFIX="$tmp/prefix"; rc=$?
left=$(find "$tmp/prefix" -type f -o -type l | wc -l)
[ "$rc" -eq 0 ] && [ "$left" -eq 0 ]; r=$?
check "make uninstall PREFIX=DIR removes every installed file (exit $rc, $left left)" $r
grep -iE 'error|warning' "$tmp/make.log" | head -5 | sed 's/^/# make: /'
exit 0
