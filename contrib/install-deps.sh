#!/bin/sh
# install-deps.sh - install the Debian packages that building and testing need
#
# Usage: contrib/install-deps.sh [build|test]
#
# Installs only what is missing; with everything installed it does
# nothing and succeeds, as root or not.  As root it runs apt-get;
# otherwise it prints the apt-get command to run and fails.  While it
# installs, system services shipped by the packages (postfix, nsd,
# opendkim, opendmarc, postsrsd) are kept from starting, so that installing the
# test peers does not start daemons on this host.
set -eu

# What each part needs.  A daemon's own packages are required only when
# its directory is in the tree.
top=$(cd "$(dirname "$0")/.." && pwd)
# common/ and milter-dkim, milter-spf: OpenSSL, ldns, libpsl, the milter
# protocol header
BUILD_PKGS="gcc make pkg-config libmilter-dev libssl-dev libldns-dev libpsl-dev"
# milter-dmarc: its history database (SQLite or PostgreSQL)
DMARC_PKGS="libsqlite3-dev libpq-dev libidn2-dev zlib1g-dev"
[ -d "$top/milter-dmarc" ] && BUILD_PKGS="$BUILD_PKGS $DMARC_PKGS"
# the tests: Perl and Net::DNS (rig, smtpsend, freeport), the peers
# (OpenDKIM, python3-dkim, Mail::DKIM, python3-spf, pyspf-milter),
# Postfix and nsd (the rig), clang (make fuzz), mandoc (man.t), the
# RFC 7208 suite's YAML
TEST_PKGS="perl clang libclang-rt-14-dev mandoc postfix nsd opendkim
opendkim-tools python3-dkim python3-nacl python3-yaml python3-spf
libmail-dkim-perl libcryptx-perl libnet-dns-perl pyspf-milter openssl
postsrsd m4 libwrap0 sqlite3 libxml2-utils opendmarc publicsuffix
postgresql python3-prometheus-client curl"

want=$BUILD_PKGS
[ "${1:-test}" = test ] && want="$BUILD_PKGS $TEST_PKGS"

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing" >&2
	echo "run as root: apt-get install$missing" >&2
	exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections 2>/dev/null || true

rcd=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$rcd" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$rcd"
	chmod 755 "$rcd"
	ours=yes
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$rcd"; fi; return 0; }
trap cleanup EXIT INT TERM

# The package lists may be stale or absent on a fresh machine.
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
exit 0
