# rig.sh - private Postfix and nsd instances on loopback for end-to-end tests
#
# SYNOPSIS
#	. t/lib/rig.sh
#	rig_init
#	rig_zone example.test <<EOF ... EOF > /dev/null
#	rig_nsd example.test "$RIG_DIR/zones/example.test.zone"
#	RIG_MAILBOXES="alice@rig.test" rig_postfix
#	rig_send sender@example.test 127.0.0.2 alice@rig.test < message
#	file=$(rig_wait_mail alice@rig.test 10)
#	rig_headers "$file"
#
# DESCRIPTION
#	POSIX sh functions that run a real Postfix and a real authoritative
#	DNS server (nsd) as root, each in a directory under one temporary
#	directory, listening on 127.0.0.1 on ports picked at run time.
#	Nothing under /etc is read or written apart from Postfix's own
#	read-only files (postfix-files, dynamicmaps.cf) in meta_directory,
#	and a system Postfix, if one runs, is not disturbed: the private
#	instance has its own config, queue and data directories, so its
#	master.pid, master.lock and sockets are its own.
#
#	Every process the rig starts is recorded by PID in $RIG_DIR/pids and
#	stopped by rig_cleanup, which rig_init arranges to run on EXIT, HUP,
#	INT, PIPE and TERM.  Each runs as the leader of its own process
#	group, and rig_cleanup waits until the whole group has gone.  A
#	caller that needs its own EXIT trap must call rig_cleanup from it.
#
#	Source address 127.0.0.1 plays an internal client (it is Postfix's
#	mynetworks unless RIG_MYNETWORKS says otherwise) and 127.0.0.2 an
#	outside one; on Linux all of 127.0.0.0/8 is local.
#
# ENVIRONMENT
#	KEEP=1		rig_cleanup leaves $RIG_DIR in place (for diagnosis).
#	RIG_MAILBOXES	addresses that get a Maildir (default alice@rig.test
#			bob@rig.test); their domains are virtual_mailbox_domains.
#	RIG_MILTERS	smtpd_milters and non_smtpd_milters (default empty).
#	RIG_MILTER_DEFAULT_ACTION  milter_default_action (default accept).
#	RIG_MYNETWORKS	mynetworks (default 127.0.0.1/32).
#	RIG_POSTCONF	extra main.cf lines, "name = value" one per line.
#
#	Set by the rig: RIG_DIR, RIG_LIB, RIG_DNS_PORT, RIG_SMTP_PORT,
#	RIG_POSTFIX_DIR (config_directory), RIG_MAIL (Maildir base).
#
#	The functions keep their scratch state in shell variables whose names
#	start with an underscore; callers should not use such names.
#
# NOTES
#	What a private Postfix needs (Debian 12, Postfix 3.7), all of it done
#	by rig_postfix:
#	- No multi-instance setup: as root, "postfix -c DIR" accepts any
#	  config directory (alternate_config_directories only restricts
#	  unprivileged users), and queue_directory and data_directory in
#	  DIR/main.cf separate the instance (master.pid, master.lock, the
#	  public and private sockets).
#	- "postfix start" creates the queue directories with the right
#	  owners (post-install create-missing, from meta_directory).
#	- Our own master.cf: no chroot (the temporary directory holds no
#	  chroot copies of /etc files), smtpd only on 127.0.0.1:PORT, and
#	  the postlog service, since without syslogd the log goes through
#	  postlogd to maillog_file, which must lie under
#	  maillog_file_prefixes.
#	- No DNS: smtpd_peername_lookup = no (else every connection from an
#	  address without a PTR waits for the resolver), smtp_dns_support_level
#	  = disabled, and default_transport = error: nothing leaves.
#	- Directories reachable by the postfix and nobody users: RIG_DIR is
#	  mode 0755, the Maildir base belongs to nobody, the uid virtual(8)
#	  delivers as.
#	- smtpd_error_sleep_time = 0, or every rejection costs a second.
#
# DIAGNOSTICS
#	Functions print "rig: ..." on standard error and return non-zero;
#	rig_postfix and rig_nsd show the server's log when it fails to start.
#
# SEE ALSO
#	postfix(1), postconf(5), master(5), virtual(8), nsd(8), nsd.conf(5)

# The helper programs live next to this file; a caller outside the top
# directory of the source tree sets RIG_LIB before sourcing.
RIG_LIB=${RIG_LIB:-$(pwd)/t/lib}

# rig__err - print a diagnostic on standard error, return 1
rig__err()
{
	echo "rig: $*" >&2
	return 1
}

# rig__alive - succeed if process PID, or one in process group PID, runs
#	Zombies (exited, not yet reaped by their parent) do not count.
rig__alive()
{
	ps -eo pid=,pgid=,stat= | awk -v p="$1" '
		($1 == p || $2 == p) && $3 !~ /^Z/ { found = 1 }
		END { exit !found }'
}

# RIG__SETSID - perl code that runs ARGV as leader of a new session
#	Used as: perl -e "$RIG__SETSID" command args... &
#	Unlike setsid(1), it never forks, so $! is the command's PID (a
#	shell function run with & would be a subshell, not the command).
#	When the process already leads its group (a shell with job
#	control), setsid() fails and the group is its own anyway.
RIG__SETSID='use POSIX; POSIX::setsid(); exec { $ARGV[0] } @ARGV or
    die "rig: cannot run $ARGV[0]: $!\n";'

# rig__wait_gone - wait up to SECONDS for every PID to exit; fail if not
rig__wait_gone()
{
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		_left=""
		for _p in "$@"; do
			rig__alive "$_p" && _left="$_left $_p"
		done
		[ -z "$_left" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# rig__track - record PID as started by the rig
rig__track()
{
	echo "$1" >> "$RIG_DIR/pids"
}

# rig_init - create the rig's directory and arrange cleanup on exit
#	Sets RIG_DIR, made by knowndir: mode 0755 below directories that
#	root owns and others may enter, so that the postfix and nobody users
#	reach their directories and a key below it is judged by what the
#	test makes, whatever TMPDIR is.  Installs traps for EXIT, HUP, INT,
#	PIPE and TERM.
rig_init()
{
	command -v postconf > /dev/null || PATH=$PATH:/usr/sbin:/sbin
	RIG_DIR=$("$RIG_LIB/knowndir" -s rig) ||
	    rig__err "cannot make a directory the postfix user can reach" ||
	    return 1
	: > "$RIG_DIR/pids"
	export RIG_DIR
	trap 'rig_cleanup' EXIT
	trap 'rig_cleanup; exit 129' HUP
	trap 'rig_cleanup; exit 130' INT
	trap 'rig_cleanup; exit 143' TERM
	trap 'rig_cleanup; exit 141' PIPE
}

# rig_cleanup - stop everything the rig started, remove RIG_DIR unless KEEP=1
#	Postfix is stopped with "postfix stop", everything else with SIGTERM
#	to its PID; when anything of its process group still runs after 5 s,
#	the group gets SIGKILL (each server leads a session of its own).  Safe to
#	call more than once.
rig_cleanup()
{
	# Every command here may fail without ending a "set -e" caller early.
	[ -n "${RIG_DIR:-}" ] && [ -d "$RIG_DIR" ] || return 0
	if [ -n "${RIG_POSTFIX_DIR:-}" ] && [ -f "$RIG_DIR/postfix.pid" ]; then
		postfix -c "$RIG_POSTFIX_DIR" stop > /dev/null 2>&1 || :
	fi
	_pids=$(cat "$RIG_DIR/pids" 2> /dev/null || :)
	for _p in $_pids; do
		! rig__alive "$_p" || kill -TERM "$_p" 2> /dev/null || :
	done
	if ! rig__wait_gone 5 $_pids; then
		for _p in $_pids; do
			rig__alive "$_p" || continue
			echo "rig: process $_p did not stop, killing it" >&2
			kill -KILL -- "-$_p" 2> /dev/null ||
			    kill -KILL "$_p" 2> /dev/null || :
		done
		rig__wait_gone 2 $_pids || :
	fi
	# Reap the ones that are children of this shell.
	for _p in $_pids; do
		wait "$_p" 2> /dev/null || :
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "rig: kept $RIG_DIR" >&2
	else
		rm -rf "$RIG_DIR" || :
	fi
	RIG_DIR=""
	return 0
}

# rig_spawn - start COMMAND... in the background in a new session, track it
#	Prints nothing; sets RIG_SPAWNED to the PID.  Standard output and
#	error go to $RIG_DIR/NAME.log where NAME is the command's basename.
#	For daemons added to the rig (milters): they must stay in the
#	foreground.
rig_spawn()
{
	_log="$RIG_DIR/$(basename "$1").log"
	perl -e "$RIG__SETSID" "$@" >> "$_log" 2>&1 < /dev/null &
	RIG_SPAWNED=$!
	rig__track "$RIG_SPAWNED"
}

# rig_zone - write a zone file for NAME with SOA and NS, plus stdin records
#	Prints the file's path ($RIG_DIR/zones/NAME.zone).  Records on
#	standard input are in zone file syntax with $ORIGIN NAME.
rig_zone()
{
	mkdir -p "$RIG_DIR/zones"
	_f="$RIG_DIR/zones/$1.zone"
	{
		echo "\$ORIGIN $1."
		echo "\$TTL 60"
		echo "@ IN SOA ns.$1. hostmaster.$1. 1 3600 600 86400 60"
		echo "@ IN NS ns.$1."
		echo "ns IN A 127.0.0.1"
		cat
	} > "$_f"
	echo "$_f"
}

# rig_nsd - start nsd serving ZONE-NAME from ZONEFILE, more pairs allowed
#	Usage: rig_nsd NAME FILE [NAME FILE]...
#	Listens on 127.0.0.1:RIG_DNS_PORT, UDP and TCP; waits until the
#	first zone's SOA is served.  Exports RIG_DNS_PORT.
rig_nsd()
{
	[ $# -ge 2 ] && [ $(($# % 2)) = 0 ] ||
	    rig__err "usage: rig_nsd NAME ZONEFILE [NAME ZONEFILE]..." ||
	    return 1
	_d="$RIG_DIR/nsd"
	mkdir -p "$_d"
	_first=$1
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		RIG_DNS_PORT=$("$RIG_LIB/freeport") || return 1
		rig__nsd_conf "$_d" "$RIG_DNS_PORT" "$@" || return 1
		perl -e "$RIG__SETSID" nsd -d -c "$_d/nsd.conf" \
		    > "$_d/nsd.out" 2>&1 \
		    < /dev/null &
		_pid=$!
		rig__track "$_pid"
		echo "$_pid" > "$RIG_DIR/nsd.pid"
		_n=50
		while [ $_n -gt 0 ] && rig__alive "$_pid"; do
			if rig_dig "$_first" SOA 2> /dev/null |
			    grep -q '^NOERROR'; then
				export RIG_DNS_PORT
				return 0
			fi
			sleep 0.1
			_n=$((_n - 1))
		done
		kill -TERM "$_pid" 2> /dev/null
		rig__wait_gone 5 "$_pid"
		wait "$_pid" 2> /dev/null
		# Lost the port to another process: try another.
		grep -q 'already in use' "$_d/nsd.out" "$_d/nsd.log" \
		    2> /dev/null || break
	done
	cat "$_d/nsd.out" "$_d/nsd.log" >&2 2> /dev/null
	rig__err "nsd did not start"
}

# rig__nsd_conf - write nsd.conf in DIR for PORT and NAME FILE pairs
rig__nsd_conf()
{
	_d=$1
	_port=$2
	shift 2
	cat > "$_d/nsd.conf" <<-EOF
	server:
	    ip-address: 127.0.0.1@$_port
	    port: $_port
	    do-ip6: no
	    username: ""
	    chroot: ""
	    server-count: 1
	    verbosity: 1
	    hide-version: yes
	    zonesdir: "$_d"
	    database: ""
	    pidfile: "$_d/nsd.pid"
	    logfile: "$_d/nsd.log"
	    xfrdfile: "$_d/xfrd.state"
	    xfrdir: "$_d"
	    zonelistfile: "$_d/zone.list"
	remote-control:
	    control-enable: no
	EOF
	while [ $# -ge 2 ]; do
		cp "$2" "$_d/$1.zone" || return 1
		printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' \
		    "$1" "$1.zone" >> "$_d/nsd.conf"
		shift 2
	done
}

# rig_dig - query the rig's nsd: NAME TYPE
#	Prints the response code (NOERROR, NXDOMAIN...) on the first line,
#	then one line per answer record's data, in presentation format (TXT
#	data as quoted strings).  Fails if no answer came.
rig_dig()
{
	perl -MNet::DNS -e '
		my ($port, $name, $type) = @ARGV;
		my $r = Net::DNS::Resolver->new(nameservers => ["127.0.0.1"],
		    port => $port, recurse => 0, udp_timeout => 2, retry => 1,
		    tcp_timeout => 2);
		my $p = $r->send($name, $type) or die $r->errorstring, "\n";
		print $p->header->rcode, "\n";
		print $_->rdstring, "\n" for grep { $_->type eq uc $type }
		    $p->answer;
	' "$RIG_DNS_PORT" "$1" "$2"
}

# rig_postfix - start a private Postfix listening on 127.0.0.1:RIG_SMTP_PORT
#	Delivers mail for RIG_MAILBOXES with virtual(8) into Maildirs under
#	$RIG_MAIL/DOMAIN/LOCAL/, rejects other recipients in those domains
#	with 550, relays nothing and looks up nothing in DNS.  Exports
#	RIG_SMTP_PORT, RIG_POSTFIX_DIR and RIG_MAIL.
rig_postfix()
{
	RIG_POSTFIX_DIR=$RIG_DIR/postfix/etc
	RIG_MAIL=$RIG_DIR/mail
	mkdir -p "$RIG_POSTFIX_DIR" "$RIG_DIR/postfix/queue" \
	    "$RIG_DIR/postfix/data" "$RIG_MAIL" || return 1
	chown -R nobody:nogroup "$RIG_MAIL"
	chown postfix "$RIG_DIR/postfix/data"
	_domains=""
	: > "$RIG_POSTFIX_DIR/vmailbox"
	for _a in ${RIG_MAILBOXES:-alice@rig.test bob@rig.test}; do
		_dom=${_a#*@}
		echo "$_a $_dom/${_a%@*}/" >> "$RIG_POSTFIX_DIR/vmailbox"
		case " $_domains " in
		*" $_dom "*) ;;
		*) _domains="$_domains $_dom" ;;
		esac
	done
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		RIG_SMTP_PORT=$("$RIG_LIB/freeport") || return 1
		rig__postfix_conf "$_domains" || return 1
		if postfix -c "$RIG_POSTFIX_DIR" start \
		    > "$RIG_DIR/postfix.out" 2>&1; then
			_pid=$(tr -d ' ' < "$RIG_DIR/postfix/queue/pid/master.pid")
			rig__track "$_pid"
			echo "$_pid" > "$RIG_DIR/postfix.pid"
			export RIG_SMTP_PORT RIG_POSTFIX_DIR RIG_MAIL
			return 0
		fi
		grep -q 'in use' "$RIG_DIR/postfix.out" \
		    "$RIG_DIR/maillog" 2> /dev/null || break
	done
	cat "$RIG_DIR/postfix.out" >&2
	rig_log >&2
	rig__err "postfix did not start"
}

# rig__postfix_conf - write main.cf and master.cf for DOMAINS
rig__postfix_conf()
{
	_q=$RIG_DIR/postfix/queue
	cat > "$RIG_POSTFIX_DIR/main.cf" <<-EOF
	compatibility_level = 3.6
	queue_directory = $_q
	data_directory = $RIG_DIR/postfix/data
	mail_owner = postfix
	setgid_group = postdrop
	myhostname = mx.rig.test
	mydomain = rig.test
	myorigin = \$myhostname
	mydestination =
	relay_domains =
	local_recipient_maps =
	alias_maps =
	alias_database =
	inet_interfaces = 127.0.0.1
	inet_protocols = ipv4
	mynetworks = ${RIG_MYNETWORKS:-127.0.0.1/32}
	smtpd_banner = \$myhostname ESMTP
	smtpd_peername_lookup = no
	smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
	smtp_dns_support_level = disabled
	default_transport = error:5.7.1 this test rig delivers no mail outside
	virtual_mailbox_domains =$1
	virtual_mailbox_base = $RIG_MAIL
	virtual_mailbox_maps = texthash:$RIG_POSTFIX_DIR/vmailbox
	virtual_uid_maps = static:$(id -u nobody)
	virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
	smtpd_milters = ${RIG_MILTERS:-}
	non_smtpd_milters = ${RIG_MILTERS:-}
	milter_default_action = ${RIG_MILTER_DEFAULT_ACTION:-accept}
	milter_protocol = 6
	milter_connect_timeout = 5s
	milter_command_timeout = 10s
	milter_content_timeout = 10s
	maillog_file = $RIG_DIR/maillog
	maillog_file_prefixes = $RIG_DIR
	smtpd_error_sleep_time = 0
	smtpd_soft_error_limit = 100
	in_flow_delay = 0
	queue_run_delay = 1s
	minimal_backoff_time = 1s
	maximal_backoff_time = 2s
	biff = no
	readme_directory = no
	${RIG_POSTCONF:-}
	EOF
	cat > "$RIG_POSTFIX_DIR/master.cf" <<-EOF
	# service type  private unpriv  chroot  wakeup  maxproc command
	127.0.0.1:$RIG_SMTP_PORT inet n - n - - smtpd
	pickup    unix  n       -       n       60      1       pickup
	cleanup   unix  n       -       n       -       0       cleanup
	qmgr      unix  n       -       n       300     1       qmgr
	rewrite   unix  -       -       n       -       -       trivial-rewrite
	bounce    unix  -       -       n       -       0       bounce
	defer     unix  -       -       n       -       0       bounce
	trace     unix  -       -       n       -       0       bounce
	verify    unix  -       -       n       -       1       verify
	flush     unix  n       -       n       1000?   0       flush
	proxymap  unix  -       -       n       -       -       proxymap
	smtp      unix  -       -       n       -       -       smtp
	relay     unix  -       -       n       -       -       smtp
	showq     unix  n       -       n       -       -       showq
	error     unix  -       -       n       -       -       error
	retry     unix  -       -       n       -       -       error
	discard   unix  -       -       n       -       -       discard
	virtual   unix  -       n       n       -       -       virtual
	anvil     unix  -       -       n       -       1       anvil
	scache    unix  -       -       n       -       1       scache
	postlog   unix-dgram n  -       n       -       1       postlogd
	EOF
	rig__age "$RIG_POSTFIX_DIR"/*
}

# rig__age - date FILE... back by two seconds
#	Postfix rereads a table or main.cf written less than a second ago
#	until it is a second old (it might still be being written); this
#	saves up to two seconds per start or reload.
rig__age()
{
	touch -d '2 seconds ago' "$@"
}

# rig_postconf - change main.cf settings ("name=value"...) and reload Postfix
#	Returns once the reload is done (rig_reload).
rig_postconf()
{
	postconf -c "$RIG_POSTFIX_DIR" -e "$@" || return 1
	rig__age "$RIG_POSTFIX_DIR/main.cf"
	[ -f "$RIG_DIR/postfix.pid" ] || return 0
	rig_reload
}

# rig_reload - reload the private Postfix and wait until it is done
#	Done: the master has logged "reload" and every process it had
#	started before (smtpd, qmgr...) has exited, so that the next
#	connection meets a process with the new configuration.  Fails
#	after 10 s.
rig_reload()
{
	_master=$(cat "$RIG_DIR/postfix.pid")
	_old=$(ps -o pid= --ppid "$_master")
	_n=$(grep -c 'postfix.*master.*: reload ' "$RIG_DIR/maillog" 2> /dev/null)
	postfix -c "$RIG_POSTFIX_DIR" reload > /dev/null 2>&1 || return 1
	_i=100
	while [ $_i -gt 0 ]; do
		if [ "$(grep -c 'postfix.*master.*: reload ' \
		    "$RIG_DIR/maillog" 2> /dev/null)" -gt "${_n:-0}" ]; then
			_left=""
			for _p in $_old; do
				ps -o pid= --ppid "$_master" | grep -qw "$_p" &&
				    _left="$_left $_p"
			done
			[ -z "$_left" ] && return 0
		fi
		sleep 0.1
		_i=$((_i - 1))
	done
	rig__err "postfix did not finish its reload within 10 s"
}

# rig_send - send the message on stdin from FROM via SOURCE-IP to RCPT...
#	Usage: rig_send FROM SOURCE-IP [RCPT...] < message
#	Without RCPT, the To: and Cc: addresses are used.  Prints the
#	server's final reply (e.g. "250 2.0.0 Ok: queued as 4Xy") or the
#	reply that refused the message; returns smtpsend's status: 0
#	accepted, 1 for 5xx, 2 for 4xx, 3 for no session.  RIG_HELO sets
#	the EHLO name.
rig_send()
{
	_from=$1
	_src=$2
	shift 2
	"$RIG_LIB/smtpsend" -p "$RIG_SMTP_PORT" -s "$_src" -f "$_from" \
	    -H "${RIG_HELO:-client.test}" "$@"
}

# rig_maildir - print the Maildir path of address RCPT
rig_maildir()
{
	echo "$RIG_MAIL/${1#*@}/${1%@*}"
}

# rig_wait_mail - wait up to TIMEOUT seconds for new mail to RCPT
#	Prints the path of the oldest message not yet returned, after
#	moving it from new/ to cur/ so that the next call returns the
#	next message.  Returns 1 on timeout.
rig_wait_mail()
{
	_md=$(rig_maildir "$1")
	_n=$((${2:-10} * 10))
	while [ "$_n" -gt 0 ]; do
		_f=$(ls "$_md/new" 2> /dev/null | sort | head -n 1)
		if [ -n "$_f" ]; then
			mv "$_md/new/$_f" "$_md/cur/$_f:2," || return 1
			echo "$_md/cur/$_f:2,"
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	rig__err "no mail for $1 within ${2:-10} s"
}

# rig_headers - print the header section of the message in FILE
rig_headers()
{
	sed -n '/^\r*$/q;p' "$1"
}

# rig_header - print the unfolded values of header field NAME in FILE
rig_header()
{
	rig_headers "$2" | awk -v name="$1" '
		BEGIN { name = tolower(name) ":" }
		/^[ \t]/ { if (keep) v = v " " $0; next }
		{ if (keep) print v; keep = 0 }
		tolower(substr($0, 1, length(name))) == name {
			keep = 1; v = substr($0, length(name) + 1)
			sub(/^[ \t]*/, "", v)
		}
		END { if (keep) print v }'
}

# rig_log - print the private Postfix's log
rig_log()
{
	cat "$RIG_DIR/maillog" 2> /dev/null
}
