# sendmail.sh - a private Sendmail 8.17 on loopback, beside the rig (sourced)
#
# SYNOPSIS
#	. t/lib/rig.sh; . t/lib/sendmail.sh
#	rig_init
#	sm_find || skip...
#	SM_FILTERS="dkim inet:PORT@127.0.0.1 spf inet:PORT2@127.0.0.1"
#	sm_start || exit 1
#	rig_send ... (with RIG_SMTP_PORT=$SM_PORT), then sm_wait_mail USER
#
# DESCRIPTION
#	Debian's sendmail-bin is not installed (it would replace Postfix):
#	`make deps` unpacks its .deb files with dpkg -x into
#	build/sendmail/ (sm_find also looks at $SENDMAIL_ROOT), and
#	sm_start runs that binary as root with a configuration built by m4
#	from the unpacked sendmail-cf macros: a daemon on 127.0.0.1:SM_PORT
#	(a port picked at run time), the queue, PID file, aliases and
#	mailboxes under $RIG_DIR/sendmail, one INPUT_MAIL_FILTER per
#	SM_FILTERS pair (name, socket) in that order, and the local mailer
#	replaced by a script that stores each message under
#	$RIG_DIR/sendmail/mail/USER/.  Mail for rig.test is local.
#
#	Sendmail looks up its own host name at start, before it reads any
#	configuration; so that it never asks the machine's resolver, it runs
#	in a mount and UTS namespace of its own (unshare -m -u) with
#	/etc/hosts and /etc/resolv.conf replaced by private files (the name
#	server 127.0.0.1:53, where nothing answers) and the host name
#	mx.sm.test.  The process is tracked by the rig and stopped by
#	rig_cleanup.
#
#	Sendmail 8.17 speaks milter protocol version 6 with SMFIP_HDR_LEADSPC
#	and the reply-less steps, but unlike Postfix it sends every macro
#	the configuration names and keeps the connection across messages
#	of one SMTP session.
SM_ROOT=
SM_BIN=
SM_PORT=
SM_DIR=

# sm_find - locate the unpacked Sendmail and its m4 files; 1 when absent
sm_find()
{
	for _r in ${SENDMAIL_ROOT:-} "$(pwd)/build/sendmail/root"; do
		if [ -x "$_r/usr/libexec/sendmail/sendmail" ] &&
		    [ -f "$_r/usr/share/sendmail/cf/m4/cf.m4" ]; then
			SM_ROOT=$_r
			SM_BIN=$_r/usr/libexec/sendmail/sendmail
			break
		fi
	done
	# (not run here: outside its namespace Sendmail would ask the
	# machine's resolver for its own name)
	[ -n "$SM_BIN" ] && command -v m4 > /dev/null &&
	    command -v unshare > /dev/null && [ "$(id -u)" = 0 ]
}

# sm__mc - the m4 source of the configuration
sm__mc()
{
	cat <<-EOF
	divert(-1)
	include(\`$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4')
	divert(0)
	VERSIONID(\`milter test rig')
	OSTYPE(\`linux')
	define(\`confDOMAIN_NAME', \`mx.sm.test')
	define(\`confDONT_PROBE_INTERFACES', \`True')
	define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')
	define(\`QUEUE_DIR', \`$SM_DIR/queue')
	define(\`STATUS_FILE', \`$SM_DIR/statistics')
	define(\`ALIAS_FILE', \`$SM_DIR/aliases')
	define(\`HELP_FILE', \`')
	define(\`confHOSTS_FILE', \`$SM_DIR/hosts')
	define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')
	define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit,MapInUnsafeDirPath,RunProgramInUnsafeDirPath,GroupWritableDirPathSafe')
	define(\`confTO_IDENT', \`0s')
	define(\`confMILTER_LOG_LEVEL', \`6')
	define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {client_addr}, {client_name}')
	define(\`LOCAL_MAILER_PATH', \`$SM_DIR/deliver')
	define(\`LOCAL_MAILER_ARGS', \`deliver \$u')
	FEATURE(\`no_default_msa')
	FEATURE(\`accept_unresolvable_domains')
	DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')
	LOCAL_DOMAIN(\`rig.test')
	EOF
	set -- ${SM_FILTERS:-}
	while [ $# -ge 2 ]; do
		echo "INPUT_MAIL_FILTER(\`$1', \`S=$2, F=T, T=S:10s;R:10s;E:30s')"
		shift 2
	done
	echo "MAILER(\`local')"
	echo "MAILER(\`smtp')"
}

# sm_start - build the configuration and start Sendmail; sets SM_PORT
sm_start()
{
	SM_DIR=$RIG_DIR/sendmail
	mkdir -p "$SM_DIR/queue" "$SM_DIR/mail" || return 1
	chmod 700 "$SM_DIR/queue"
	printf '127.0.0.1 localhost mx.sm.test\n::1 localhost\n' \
	    > "$SM_DIR/hosts"
	echo "nameserver 127.0.0.1" > "$SM_DIR/resolv.conf"
	printf 'hosts files\naliases files\n' > "$SM_DIR/service.switch"
	echo "postmaster: root" > "$SM_DIR/aliases"
	cat > "$SM_DIR/deliver" <<-'EOF'
	#!/bin/sh
	# deliver [-f sender] RCPT - store the message on stdin
	eval rcpt=\${$#}
	d=$(dirname "$0")/mail/$rcpt
	mkdir -p "$d/new"
	f=$d/$(date +%s%N).$$
	cat > "$f.tmp" && mv "$f.tmp" "$d/new/${f##*/}"
	EOF
	chmod 755 "$SM_DIR/deliver"
	cat > "$SM_DIR/run" <<-EOF
	#!/bin/sh
	# in a namespace of its own: private host files and host name
	mount --bind $SM_DIR/hosts /etc/hosts &&
	mount --bind $SM_DIR/resolv.conf /etc/resolv.conf &&
	hostname mx.sm.test && exec "$SM_BIN" "\$@"
	EOF
	chmod 755 "$SM_DIR/run"
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		SM_PORT=$("$RIG_LIB/freeport") || return 1
		sm__mc > "$SM_DIR/sendmail.mc"
		m4 "$SM_DIR/sendmail.mc" > "$SM_DIR/sendmail.cf" ||
		    rig__err "m4 failed on $SM_DIR/sendmail.mc" || return 1
		unshare -m -u "$SM_DIR/run" -bi -C "$SM_DIR/sendmail.cf" \
		    > "$SM_DIR/newaliases.out" 2>&1
		rig_spawn unshare -m -u "$SM_DIR/run" -bD \
		    -C "$SM_DIR/sendmail.cf" -X "$SM_DIR/trace"
		_pid=$RIG_SPAWNED
		_n=100
		while [ $_n -gt 0 ] && rig__alive "$_pid"; do
			if (exec 3<> "/dev/tcp/127.0.0.1/$SM_PORT") \
			    2> /dev/null; then
				export SM_PORT SM_DIR
				return 0
			fi
			sleep 0.1
			_n=$((_n - 1))
		done
		kill -TERM "$_pid" 2> /dev/null
		rig__wait_gone 5 "$_pid"
	done
	cat "$RIG_DIR/unshare.log" >&2 2> /dev/null
	rig__err "sendmail did not start"
}

# sm_wait_mail USER [TIMEOUT] - the path of USER's next message
sm_wait_mail()
{
	_md=$SM_DIR/mail/$1
	_n=$((${2:-10} * 10))
	while [ "$_n" -gt 0 ]; do
		_f=$(ls "$_md/new" 2> /dev/null | sort | head -n 1)
		if [ -n "$_f" ]; then
			mkdir -p "$_md/cur"
			mv "$_md/new/$_f" "$_md/cur/$_f" || return 1
			echo "$_md/cur/$_f"
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	rig__err "no mail for $1 within ${2:-10} s"
}
