#!/bin/sh
#
# embed.sh IN OUT: the bytes of IN, then a NUL, as the body of a C array
# initializer, so that a source file embeds IN's text at build time:
#
#     const char  text[] = {
#     #include "OUT"
#     };
#
# Portable (od and sed, no xxd).  OUT is replaced only when its content
# changes, so that what depends on it is not rebuilt for nothing.

set -e

in=$1
out=$2

mkdir -p "`dirname "$out"`"

{
    echo "/* generated from `basename "$in"` by embed.sh: do not edit */"
    od -An -v -tx1 "$in" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1, /g' \
                               -e 's/ $//'
    echo "0x00"
} > "$out.tmp"

if cmp -s "$out.tmp" "$out"; then
    rm -f "$out.tmp"
else
    mv -f "$out.tmp" "$out"
fi
