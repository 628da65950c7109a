#!/usr/bin/env bash
# Builds nginx with AddressSanitizer and UndefinedBehaviorSanitizer and the
# aigw module compiled in (statically), from Debian's source package of the
# nginx installed on this machine ("make test-asan" runs it).  The test-only
# module of t/fetch (t/test_fetch.py) is compiled in too: this nginx is for
# the tests only.
#
#   t/asan/build-nginx.sh REPO OUT
#
# OUT/src/nginx/        the source tree, configured: "make -f objs/Makefile"
#                       there builds objs/nginx (the Makefile does, and again
#                       when the module's sources change)
# OUT/SOURCE            the source package it is built from, and how
#
# The download and the unpacking are done once (OUT/src/.unpacked names
# the versions); configure runs every time.
#
# The source: Debian's source package of the installed version (deb-src
# entries of the machine's own Debian mirrors, in a private apt state under
# OUT/apt: the system's apt configuration is not changed).  apt checks the
# .dsc against the signed Sources index; this script checks the SHA-256 of
# the .orig tarball (nginx.org's release, byte for byte) and of Debian's
# tarball against the .dsc's Checksums-Sha256 before dpkg-source unpacks
# them and applies Debian's patches (security backports, nginx as Debian
# ships it).  If the mirror no longer (or not yet) serves the installed
# revision, the newest revision it serves of the same nginx release not
# newer than the installed one is used (its .orig must be the one the
# index lists for the installed revision), and OUT/SOURCE says so.
#
# Configured with the installed nginx's own flags ("nginx -V") but its
# compiler and linker options and its dynamic modules (they need libraries
# the tests do not: GeoIP, gd, perl, libxslt).
#
# Environment: ASAN_NGINX_VERSION  a Debian version of nginx to build
#              instead of the installed one;
#              ASAN_CC             the compiler (default clang)

set -euo pipefail

repo=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
# clang: gcc's UBSan runtime writes to stderr whatever log_path says
cc=${ASAN_CC:-clang}

# the module's own files: every check of -fsanitize=undefined; nginx's: all
# but three that nginx breaks by design, everywhere: memcpy(p, NULL, 0) of
# an empty ngx_str_t (nonnull-attribute: nginx stops at its start),
# NULL + 0 as the pos of an empty buffer (pointer-overflow: at the first
# request body written to a file), and the unaligned 16- and 32-bit loads
# of its HTTP and HTTP/2 parsers on x86 (alignment, NGX_HAVE_NONALIGNED).
# NGX_DEBUG_PALLOC: every pool allocation is a malloc() of its own, so
# that ASan sees an overflow past one.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
SAN_CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN -DNGX_DEBUG_PALLOC=1"
NGX_NO_SANITIZE="-fno-sanitize=nonnull-attribute,pointer-overflow,alignment"
SAN_LDFLAGS="-fsanitize=address,undefined"

installed=$(dpkg-query -W -f '${Version}' nginx 2>/dev/null) || true
if [ -z "$installed" ] || [ ! -x /usr/sbin/nginx ]; then
    echo "build-nginx.sh: Debian's nginx is not installed: make deps" >&2
    exit 1
fi
want=${ASAN_NGINX_VERSION:-$installed}
upstream=${want%-*}


src_dir=$out/src
stamp=$src_dir/.unpacked
if [ -f "$stamp" ] && [ "$(cut -d' ' -f1 "$stamp")" = "$want" ] \
   && [ -d "$src_dir/nginx" ]; then
    got=$(cut -d' ' -f2 "$stamp")
    echo "== nginx $got: unpacked already in $src_dir"
else

# --- a private apt state: deb-src entries of the system's own mirrors ---

apt_dir=$out/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" \
         "$apt_dir/cache/archives/partial"
sys=/etc/apt/sources.list.d/debian.sources
if [ -f "$sys" ] && grep -q '^Types:.*\bdeb\b' "$sys"; then
    # the same URIs, suites and keys (deb822), as source entries
    sed 's/^Types:.*$/Types: deb-src/' "$sys" \
        > "$apt_dir/sources.list.d/debian-src.sources"
else
    cat > "$apt_dir/sources.list.d/debian-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi

apt_opts=(-q -o "Dir::Etc::SourceList=/dev/null"
          -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
          -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache")
if [ "$(id -u)" = 0 ]; then
    # _apt could not write into OUT: download as root, quietly
    apt_opts+=(-o "APT::Sandbox::User=root")
fi

echo "== apt-get update (deb-src, private state in $apt_dir)"
apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 || {
    cat "$apt_dir/update.log" >&2; exit 1; }


# --- the source package ---------------------------------------------------

# the versions of the same nginx release the index lists, newest first, the
# wanted one first of all
versions=$(apt-cache "${apt_opts[@]}" showsrc nginx \
           | sed -n 's/^Version: //p' | sort -u \
           | while read -r v; do
                 [ "${v%-*}" = "$upstream" ] || continue
                 [ "$v" = "$want" ] && continue
                 dpkg --compare-versions "$v" lt "$want" && echo "$v"
             done | sort -r -V)
versions="$want $versions"

got=
for v in $versions; do
    rm -rf "$src_dir"
    mkdir -p "$src_dir"
    echo "== apt-get source --download-only nginx=$v"
    if (cd "$src_dir" && apt-get "${apt_opts[@]}" source --download-only \
            "nginx=$v" >download.log 2>&1); then
        got=$v
        break
    fi
    sed -n 's/^E: /   /p' "$src_dir/download.log"
done
if [ -z "$got" ]; then
    echo "build-nginx.sh: no Debian source of nginx $upstream on the" \
         "mirrors (tried: $versions)" >&2
    exit 1
fi

dsc=$src_dir/nginx_${got#*:}.dsc

# every file of the .dsc, the .orig tarball first among them, against the
# .dsc's own SHA-256 before anything is unpacked
sums=$(sed -n '/^Checksums-Sha256:/,/^[^ ]/{/^ /p}' "$dsc" \
       | awk '{ print $1 "  " $3 }')
if ! grep -q "  nginx_$upstream\.orig\.tar\.gz\$" <<<"$sums"; then
    echo "build-nginx.sh: $dsc lists no nginx_$upstream.orig.tar.gz" >&2
    exit 1
fi
echo "== sha256sum -c (against $(basename "$dsc"))"
(cd "$src_dir" && sha256sum -c --strict - <<<"$sums")

# another revision than the wanted one: its .orig must be the very tarball
# the index lists for the wanted one (the same nginx.org release)
if [ "$got" != "$want" ]; then
    orig=$(grep "  nginx_$upstream\.orig\.tar\.gz\$" <<<"$sums" | cut -d' ' -f1)
    listed=$(apt-cache "${apt_opts[@]}" showsrc nginx | awk -v v="$want" \
                 -v f="nginx_$upstream.orig.tar.gz" '
             /^$/ { if (ver == v && sum) print sum; ver = ""; sum = "" }
             /^Version: / { ver = $2 }
             /^[^ ]/ { in_sums = ($1 == "Checksums-Sha256:") }
             in_sums && /^ / && $3 == f { sum = $1 }
             END { if (ver == v && sum) print sum }' | sort -u)
    if [ -n "$listed" ] && [ "$listed" != "$orig" ]; then
        echo "build-nginx.sh: the .orig of $got is not the one of $want" >&2
        exit 1
    fi
    echo "${listed:+same .orig as $want, by the index}" > "$src_dir/.orig-of"
fi

echo "== dpkg-source -x (nginx.org's $upstream, Debian's patches of $got)"
(cd "$src_dir" && dpkg-source -x "$dsc" nginx >dpkg-source.log 2>&1) || {
    cat "$src_dir/dpkg-source.log" >&2; exit 1; }
echo "$want $got" > "$stamp"
fi


# --- configure and build ------------------------------------------------------

# the installed nginx's configure arguments, as "nginx -V" prints them
args=$(/usr/sbin/nginx -V 2>&1 | sed -n 's/^configure arguments: //p')
eval "set -- $args"
flags=()
for a; do
    case $a in
    --with-cc-opt=*|--with-ld-opt=*|*=dynamic) ;;
    *) flags+=("$a") ;;
    esac
done

echo "== configure (${#flags[@]} of the installed nginx's flags," \
     "--add-module=$repo, the test-only $repo/t/fetch)"
cd "$src_dir/nginx"
rm -rf objs
./configure --with-cc="$cc" "${flags[@]}" \
    --with-cc-opt="$SAN_CFLAGS $NGX_NO_SANITIZE" \
    --with-ld-opt="$SAN_LDFLAGS" \
    --add-module="$repo" --add-module="$repo/t/fetch" >configure.log 2>&1 || {
    tail -30 configure.log >&2; exit 1; }

# the module's objects (objs/addon/): every check again
cat >> objs/Makefile <<EOF

objs/addon/%.o: CFLAGS += $SAN_CFLAGS
EOF

{
    echo "nginx $upstream from Debian's source package $got"
    if [ "$got" = "$installed" ]; then
        echo "the installed nginx's own version: nginx.org's release and" \
             "every Debian patch of it"
    else
        echo "NOT the installed version ($installed): the mirrors do not" \
             "serve its source; Debian's patches up to $got only"
        cat "$src_dir/.orig-of" 2>/dev/null || true
    fi
    echo "orig: $(sha256sum "$src_dir/nginx_$upstream.orig.tar.gz" \
                  | cut -d' ' -f1) (checked against the .dsc)"
    echo "cc: $cc $SAN_CFLAGS $NGX_NO_SANITIZE"
    echo "cc (the module): $cc $SAN_CFLAGS"
    echo "ld: $SAN_LDFLAGS"
} > "$out/SOURCE"
cat "$out/SOURCE"
