#!/usr/bin/perl
# daemon.t - the milter runtime end to end: testmilter (built on
# common/milter/daemon.c) driven by milterclient over TCP and UNIX sockets.
#
# Needs BUILD (the build directory).  Every server started here listens
# on 127.0.0.1 or in a private directory and is killed by its PID at exit.
# KEEP=1 keeps the temporary directory (configs, logs) for inspection.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More;

my $build = $ENV{BUILD} or plan skip_all => 'BUILD is not set';
my $milter = "$build/t/tools/testmilter";
my $client = "$build/t/tools/milterclient";
plan skip_all => 'testmilter or milterclient not built'
    unless -x $milter && -x $client;

my $srcdir = $0 =~ m{^(.*)/t/[^/]+$} ? $1 : '.';
# The scratch directory: one whose ancestors root owns and others may
# enter (t/lib/knowndir), so that the user nobody reaches the UserID
# test's run directory and a UNIX socket path stays short whatever
# TMPDIR is; a private temporary directory when there is none.
my $dir = `$srcdir/t/lib/knowndir -s daemon-t 2>/dev/null`;
chomp $dir;
if ($? == 0 && $dir ne '') {
	eval "END { system('rm', '-rf', \$dir) unless \$ENV{KEEP} }";
} else {
	$dir = tempdir('daemon-t-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP});
	chmod 0755, $dir;
}
my %servers;			# pid => 1 for every server we started

END {
	kill 'KILL', keys %servers if %servers;
}
$SIG{INT} = $SIG{TERM} = sub { kill 'KILL', keys %servers; exit 1 };

# free_port - a port on 127.0.0.1 nobody listens on right now
sub free_port {
	my $p = `$srcdir/t/lib/freeport`;
	chomp $p;
	$p =~ /^\d+$/ or die "t/lib/freeport: no free port\n";
	return $p;
}

sub write_file {
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
}

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	my $t = <$fh>;
	return defined $t ? $t : '';
}

# run - run a command with stdin from a file; returns (status, stdout, stderr)
sub run {
	my ($in, @cmd) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', $in or die;
		open STDOUT, '>', "$dir/run.out" or die;
		open STDERR, '>', "$dir/run.err" or die;
		exec @cmd or exit 127;
	}
	waitpid $pid, 0;
	return ($? >> 8, slurp("$dir/run.out"), slurp("$dir/run.err"));
}

# spawn - start a command in the background, output to files
sub spawn {
	my ($in, $out, $err, @cmd) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', $in or die;
		open STDOUT, '>', $out or die;
		open STDERR, '>', $err or die;
		exec @cmd or exit 127;
	}
	return $pid;
}

# reap - wait for a child at most $secs; its exit status, or undef
sub reap {
	my ($pid, $secs) = @_;
	my $end = time + $secs;
	while (time < $end) {
		if (waitpid($pid, WNOHANG) == $pid) {
			delete $servers{$pid};
			return $? >> 8;
		}
		sleep 0.02;
	}
	return undef;
}

# can_connect - whether something accepts on inet port or unix path
sub can_connect {
	my ($where) = @_;
	my $s = $where =~ m{^/} ?
	    IO::Socket::UNIX->new(Peer => $where, Type => SOCK_STREAM) :
	    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $where,
	    Proto => 'tcp');
	return defined $s;
}

# start - run testmilter -f on a config; waits until it says it serves
sub start {
	my ($conf, $where, $log) = @_;
	my $pid = spawn('/dev/null', '/dev/null', $log, $milter, '-f',
	    '-c', $conf);
	$servers{$pid} = 1;
	for (1 .. 250) {
		return $pid if slurp($log) =~ /listening on/ && can_connect($where);
		return undef if defined reap($pid, 0.02);
	}
	return undef;
}

# wait_log - wait up to 10 s until $log has more than $n lines matching
# $re; true if it does
sub wait_log {
	my ($log, $re, $n) = @_;
	for (1 .. 500) {
		my $c = () = slurp($log) =~ /$re/gm;
		return 1 if $c > $n;
		sleep 0.02;
	}
	return 0;
}

# count_log - how many lines of $log match $re
sub count_log {
	my ($log, $re) = @_;
	my $c = () = slurp($log) =~ /$re/gm;
	return $c;
}

sub conf_text {
	my (%kv) = @_;
	return join '', map { "$_ $kv{$_}\n" } sort keys %kv;
}

# Messages.
my $plain = "$dir/plain.eml";
write_file($plain, "From: a\@example.org\nTo: b\@example.org\n" .
    "Subject: test\n folded\n\nHello.\nSecond line.\n");
my $big = "$dir/big.eml";
write_file($big, "From: a\@example.org\nX-Big: " . ('x' x (100 * 1024)) .
    "\nSubject: big\n\nbody\n");
my $huge = "$dir/huge.eml";
write_file($huge, "From: a\@example.org\nX-Huge: " . ('x' x (2 * 1024 * 1024)) .
    "\n\nbody\n");
my $slow = "$dir/slow.eml";
write_file($slow, "From: a\@example.org\nX-Test-Delay: 1500\n\nslow\n");

# -n: configuration checks.
my $port = free_port();
my $conf = "$dir/tm.conf";
my $pidfile = "$dir/tm.pid";
my %base = (Socket => "inet:$port\@127.0.0.1", PidFile => $pidfile,
    Syslog => 'no', HeaderValue => 'one');
write_file($conf, conf_text(%base));
my ($st, $out, $err) = run('/dev/null', $milter, '-n', '-c', $conf);
is($st, 0, '-n accepts a good configuration');

write_file("$dir/bad.conf", "Syslog maybe\nHeaderValue x\nNoSuchKeyword 1\n");
($st, $out, $err) = run('/dev/null', $milter, '-n', '-c', "$dir/bad.conf");
is($st, 1, '-n rejects an unknown keyword with status 1');
like($err, qr{bad\.conf:3: .*NoSuchKeyword}, '... naming the file and line');
like($err, qr{bad\.conf:1: .*Syslog.*\n.*bad\.conf:3}, '... each error on its own line');

write_file("$dir/badsock.conf", "Syslog no\nSocket inet:99999\@127.0.0.1\n");
($st, $out, $err) = run('/dev/null', $milter, '-n', '-c', "$dir/badsock.conf");
is($st, 1, '-n rejects a malformed Socket');
like($err, qr{badsock\.conf:2: Socket: .*port}, '... naming file, line and why');

($st, $out, $err) = run('/dev/null', $milter, '-V');
ok($st == 0 && $out =~ /^testmilter \S+/, '-V prints the version');
($st, $out, $err) = run('/dev/null', $milter, '-q');
ok($st == 2 && $err =~ /unknown option -q/, 'an unknown option is a usage error');
($st, $out, $err) = run('/dev/null', $milter, '-n', '-c', "$dir/missing.conf");
ok($st == 1 && $err =~ /missing\.conf/, 'a missing -c file is named');

# The daemon over TCP.
my $log = "$dir/tm.log";
my $pid = start($conf, $port, $log);
ok($pid, 'testmilter starts on a free 127.0.0.1 port') or
    BAIL_OUT('cannot start testmilter: ' . slurp($log));
is(slurp($pidfile), "$pid\n", 'the PidFile holds its process id');
my $sock = "inet:$port\@127.0.0.1";

($st, $out, $err) = run($plain, $client, '-s', $sock);
is($st, 0, 'milterclient completes a message');
is($out, "ADDHEADER X-Test-Milter: one\n" .
    "ADDHEADER X-Test-Seen: headers=3 longest=14 body=22\n" .
    "CONTINUE\n", 'the header is added; headers, leading space, CRLF body seen');

write_file("$dir/reject.eml", "From: a\@example.org\nX-Test-Action: reject\n\nx\n");
($st, $out, $err) = run("$dir/reject.eml", $client, '-s', $sock);
is($out, "REPLYCODE 550 5.7.1 rejected by test\n", 'a reply code is printed as given');
write_file("$dir/edit.eml", "Subject: s\nX-Test-Action: edit\n\nx\n");
($st, $out, $err) = run("$dir/edit.eml", $client, '-s', $sock);
like($out, qr/^CHGHEADER 1 Subject: changed\nCHGHEADER 1 X-Test-Action:\n/m,
    'header changes and deletions are printed with their index');
like($out, qr/^INSHEADER 0 X-Test-First: first$/m, 'header insertions too');

# Verdicts at steps the MTA does not wait for (header, body, connect) are
# held and given at the next step that replies, never lost.
for my $v (['reject', "REPLYCODE 550 5.7.1 rejected at header\n"],
    ['tempfail', "REPLYCODE 451 4.7.1 deferred at header\n"],
    ['accept', "ACCEPT\n"], ['discard', "DISCARD\n"]) {
	write_file("$dir/v.eml", "From: a\@example.org\nX-Test-Action: " .
	    "header-$v->[0]\nSubject: after\n\nx\n");
	($st, $out, $err) = run("$dir/v.eml", $client, '-s', $sock);
	is($out, $v->[1], "a $v->[0] verdict at a header field reaches the MTA " .
	    'at end of message');
}
write_file("$dir/skip.eml", "From: a\@example.org\nX-Test-Action: body-skip\n\n" .
    ("0123456789abcdef\n" x 8000));
($st, $out, $err) = run("$dir/skip.eml", $client, '-s', $sock);
like($out, qr/X-Test-Seen: headers=2 longest=14 body=65535\nCONTINUE\n$/,
    'after a body skip the daemon sees no more chunks, and the message ends normally');
($st, $out, $err) = run($plain, $client, '-s', $sock);
like($out, qr/X-Test-Seen: headers=3 /, 'the next message is handled as usual');

for my $v (['reject', "REPLYCODE 550 5.7.1 rejected at connect at rcpt\n"],
    ['tempfail', "REPLYCODE 451 4.7.1 deferred at connect at rcpt\n"],
    ['accept', "ACCEPT at rcpt\n"]) {
	my $p = free_port();
	write_file("$dir/ca.conf", conf_text(Socket => "inet:$p\@127.0.0.1",
	    Syslog => 'no', ConnectAction => $v->[0]));
	my $cpid = start("$dir/ca.conf", $p, "$dir/ca.log");
	($st, $out, $err) = run($plain, $client, '-s', "inet:$p\@127.0.0.1");
	is($out, $v->[1], "a $v->[0] verdict at connect is given at the first " .
	    'step that replies (RCPT: MAIL is reply-less)');
	kill 'TERM', $cpid if $cpid;
	reap($cpid, 10) if $cpid;
}

($st, $out, $err) = run($plain, $client, '-s', $sock, '-f',
    'reject-mail@example.org', '-r', 'a@example.org', '-r', 'b@example.org');
is($out, "REPLYCODE 550 5.7.1 rejected at mail at rcpt\n",
    'a MAIL verdict is given at RCPT, with its text');
($st, $out, $err) = run($plain, $client, '-s', $sock, '-r',
    'reject-rcpt@example.org');
is($out, "REPLYCODE 550 5.7.1 rejected at rcpt at rcpt\n",
    'a RCPT verdict is given at once');
($st, $out, $err) = run($plain, $client, '-s', $sock);
like($out, qr/X-Test-Seen: headers=3 /, 'the next message is handled as usual');

($st, $out, $err) = run($big, $client, '-s', $sock);
ok($st == 0 && $out =~ /longest=102401 /,
    'a 100 KB header field is processed, not dropped')
    or diag("status $st: $out $err");

($st, $out, $err) = run($huge, $client, '-s', $sock);
ok($st == 1 && $err =~ /closed|reset|broken pipe/i,
    'a 2 MB header field ends that connection')
    or diag("status $st: $out $err");
like(slurp($log), qr/packet of \d+ bytes from the MTA \(at most 1048577\)/,
    '... and the daemon logs why');

for my $stage (qw(header body)) {
	($st, $out, $err) = run($big, $client, '-s', $sock, '-x',
	    "abort-after=$stage");
	ok($st == 0 && $out eq "HANGUP after $stage\n",
	    "the client hangs up after the $stage");
}
($st, $out, $err) = run($plain, $client, '-s', $sock);
ok($st == 0 && $out =~ /X-Test-Milter: one/,
    'the daemon still serves after hang-ups and a refused packet');

# (The latency of replies over TCP is measured by make bench: t/bench.sh.)
($st, $out, $err) = run($plain, $client, '-s', $sock, '-n', '40', '-c', '4');
is($st, 0, '40 messages over 4 concurrent connections');

# Our own failure: the internal-error answer, or accept when so configured.
my $errmsg = "$dir/error.eml";
write_file($errmsg, "From: a\@example.org\nX-Test-Action: error\n\nbody\n");
($st, $out, $err) = run($errmsg, $client, '-s', $sock);
is($out, "REPLYCODE 451 4.3.0 Internal error in testmilter\n",
    'an internal error answers 451 4.3.0 with the daemon\'s text');

# A second instance with the same PidFile refuses to start.
my $port2 = free_port();
write_file("$dir/dup.conf", conf_text(%base, Socket => "inet:$port2\@127.0.0.1"));
($st, $out, $err) = run('/dev/null', $milter, '-f', '-c', "$dir/dup.conf");
ok($st == 1 && $err =~ /held by running process $pid/,
    'a second instance refuses a PidFile held by a live process');

# Reload: a connection in progress keeps its config; new ones get the new.
my $held = qr/holding a message/;
my $n = count_log($log, $held);
my $slow_pid = spawn($slow, "$dir/slow.out", "$dir/slow.err", $client,
    '-s', $sock);
ok(wait_log($log, $held, $n), 'a slow message is in flight');
write_file($conf, conf_text(%base, HeaderValue => 'two', UMask => '027'));
$n = count_log($log, qr/configuration reloaded/);
kill 'HUP', $pid;
ok(wait_log($log, qr/configuration reloaded/, $n), 'SIGHUP: the daemon logs the reload');
($st, $out, $err) = run($plain, $client, '-s', $sock);
like($out, qr/X-Test-Milter: two/, 'after SIGHUP new connections see the new config');
is(reap($slow_pid, 10), 0, 'the connection open during the reload completes');
like(slurp($log), qr/UMask changed; it takes effect at the next start/,
    'a reload names a start-up setting it cannot apply');
like(slurp("$dir/slow.out"), qr/X-Test-Milter: one/, '... with the config it started with');

write_file($conf, conf_text(%base, HeaderValue => 'two', UMask => '027') .
    "Bogus keyword\n");
$n = count_log($log, qr/reload failed/);
kill 'USR1', $pid;
ok(wait_log($log, qr/reload failed/, $n), 'SIGUSR1: a reload, which fails');
($st, $out, $err) = run($plain, $client, '-s', $sock);
ok($st == 0 && $out =~ /X-Test-Milter: two/, 'a failed reload keeps the running config');
like(slurp($log), qr/reload failed.*tm\.conf:6: unknown keyword/, '... and logs why');
ok(kill(0, $pid), '... and the daemon keeps running');

# An empty file (being written, say) is refused on reload and at start.
write_file($conf, '');
kill 'HUP', $pid;
for (1 .. 250) {
	last if slurp($log) =~ /reload failed.*the file is empty/;
	sleep 0.02;
}
like(slurp($log), qr/reload failed, keeping the running configuration: .*tm\.conf: the file is empty/,
    'an empty file on reload is refused, saying so');
($st, $out, $err) = run($plain, $client, '-s', $sock);
ok($st == 0 && $out =~ /X-Test-Milter: two/, '... and the running config stays');
write_file("$dir/empty.conf", '');
($st, $err) = must_fail("$dir/empty.conf");
ok(defined $st && $st == 1 && $err =~ /empty\.conf: the file is empty/,
    'an empty file at start is refused, saying so')
    or diag(defined $st ? "$st: $err" : 'it started');
write_file($conf, conf_text(%base, HeaderValue => 'two', UMask => '027'));

# SIGTERM: a message in flight finishes, then a clean exit.
$n = count_log($log, $held);
$slow_pid = spawn($slow, "$dir/slow.out", "$dir/slow.err", $client, '-s', $sock);
ok(wait_log($log, $held, $n), 'a slow message is in flight again');
kill 'TERM', $pid;
ok(wait_log($log, qr/stopping on signal/, 0), 'SIGTERM: the daemon logs that it stops');
($st, $out, $err) = run($plain, $client, '-s', $sock);
ok($st == 0 && $out eq "TEMPFAIL at connect\n",
    'while stopping, a new message gets a temporary failure') or
    diag("$st: $out $err");
is(reap($slow_pid, 10), 0, 'after SIGTERM the message in flight completes');
like(slurp("$dir/slow.out"), qr/X-Test-Milter: two/, '... with its header');
is(reap($pid, 10), 0, 'SIGTERM exits with status 0') or diag(slurp($log));
ok(!-e $pidfile, '... and removes the PidFile');
ok(!can_connect($port), '... and stops listening');

# SIGTERM: a connection idle between messages is closed at once, not at
# the end of the wait for the messages in flight.
sub packet { my ($cmd, $data) = @_; pack('N', 1 + length $data) . $cmd . $data }
{
	my $p3 = free_port();
	write_file("$dir/idle.conf", conf_text(%base,
	    Socket => "inet:$p3\@127.0.0.1", PidFile => "$dir/idle.pid",
	    MilterDebug => 2));
	my $ipid = start("$dir/idle.conf", $p3, "$dir/idle.log");
	ok($ipid, 'testmilter starts (idle connections)')
	    or diag(slurp("$dir/idle.log"));
	my $idle = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $p3, Proto => 'tcp') or die "connect: $!";
	# negotiate, connect, HELO, then nothing: idle between messages
	print $idle packet('O', pack('NNN', 6, 0x1ff, 0x1fffff));
	my $neg = '';
	sysread($idle, $neg, 4096);
	print $idle packet('C', "client.example\0" . '4' . pack('n', 25) .
	    "192.0.2.9\0") . packet('H', "client.example\0");
	write_file("$dir/slower.eml",
	    "From: a\@example.org\nX-Test-Delay: 6000\n\nslow\n");
	my $spid = spawn("$dir/slower.eml", "$dir/slower.out",
	    "$dir/slower.err", $client, '-s', "inet:$p3\@127.0.0.1", '-T', '30');
	for (1 .. 500) {	# the slow message is at its end, held
		last if slurp("$dir/idle.log") =~ /command 'E'/;
		sleep 0.02;
	}
	kill 'TERM', $ipid;
	# read until the daemon closes the idle connection (or 20 s)
	my ($buf, $closed) = ('', 0);
	my $rin = '';
	vec($rin, fileno($idle), 1) = 1;
	my $end = time + 20;
	while (time < $end) {
		my $rout = $rin;
		next unless select($rout, undef, undef, 0.2);
		my $n = sysread($idle, $buf, 4096);
		if (!$n) {
			$closed = 1;
			last;
		}
	}
	my $slow_running = !defined reap($spid, 0);
	ok($closed && $slow_running,
	    'SIGTERM closes a connection idle between messages while a ' .
	    'message is still in flight') or diag("closed=$closed " .
	    "slow running=$slow_running\n" . slurp("$dir/idle.log"));
	is(reap($spid, 20), 0, '... and the message in flight completes');
	is(reap($ipid, 20), 0, '... then the daemon exits 0');
}

# Out of descriptors: accept() failing with EMFILE is logged once, not
# ten times a second, and serving resumes when descriptors are free.
{
	my $p4 = free_port();
	write_file("$dir/emfile.conf", conf_text(%base,
	    Socket => "inet:$p4\@127.0.0.1", PidFile => "$dir/emfile.pid",
	    OnErrorAccept => 'yes'));
	my $epid = spawn('/dev/null', '/dev/null', "$dir/emfile.log", '/bin/sh',
	    '-c', 'ulimit -n 32 && exec "$0" -f -c "$1"', $milter,
	    "$dir/emfile.conf");
	$servers{$epid} = 1;
	for (1 .. 250) {
		last if slurp("$dir/emfile.log") =~ /listening on/;
		sleep 0.02;
	}
	my @held;
	for (1 .. 60) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $p4, Proto => 'tcp') or last;
		push @held, $s;
	}
	my $emfile = qr/accept: Too many open files/;
	for (1 .. 500) {
		last if slurp("$dir/emfile.log") =~ $emfile;
		sleep 0.02;
	}
	like(slurp("$dir/emfile.log"), $emfile,
	    'out of descriptors: accept() failing is logged');
	sleep 1.5;		# the rate is what is tested
	my $n = () = slurp("$dir/emfile.log") =~ /$emfile/g;
	is($n, 1, '... once in 1.5 s, not at every retry');
	close $_ for @held;
	@held = ();
	my $served = 0;
	for (1 .. 100) {
		($st, $out, $err) = run($plain, $client, '-s',
		    "inet:$p4\@127.0.0.1", '-T', '5');
		last if ($served = $st == 0 && $out =~ /X-Test-Milter/);
		sleep 0.05;
	}
	ok($served, '... and it serves again once descriptors are free')
	    or diag(slurp("$dir/emfile.log"));
	($st, $out, $err) = run($errmsg, $client, '-s', "inet:$p4\@127.0.0.1");
	is($out, "ACCEPT\n", 'an internal error with OnErrorAccept: accepted');
	kill 'TERM', $epid;
	is(reap($epid, 20), 0, '... and stops cleanly');
}

# UNIX socket: a stale socket file is replaced; UMask sets its mode.
my $path = "$dir/tm.sock";
{
	my $stale = IO::Socket::UNIX->new(Local => $path, Type => SOCK_STREAM,
	    Listen => 1) or die "stale socket: $!";
	close $stale;		# the file stays: a stale socket
}
write_file("$dir/unix.conf", conf_text(%base, Socket => "unix:$path",
    UMask => '007', PidFile => "$dir/unix.pid"));
$pid = start("$dir/unix.conf", $path, "$dir/unix.log");
ok($pid, 'testmilter starts on a UNIX socket, replacing a stale one')
    or diag(slurp("$dir/unix.log"));
is((stat $path)[2] & 0777, 0770, 'the socket mode follows UMask 007');
($st, $out, $err) = run($plain, $client, '-s', "unix:$path");
ok($st == 0 && $out =~ /X-Test-Milter: one/, 'the header is added over the UNIX socket');

write_file("$dir/unix2.conf", conf_text(%base, Socket => "unix:$path",
    PidFile => "$dir/unix2.pid"));
($st, $out, $err) = run('/dev/null', $milter, '-f', '-c', "$dir/unix2.conf");
ok($st == 1 && $err =~ /in use/, 'a UNIX socket in use by a live daemon is not taken over');
ok(can_connect($path), '... and that daemon keeps it');
kill 'TERM', $pid;
is(reap($pid, 10), 0, 'the UNIX socket daemon stops cleanly');

# Socket unix:PATH removes a stale socket and nothing else (as libmilter).
# must_fail - run testmilter -f on a config that it must refuse; returns
# (exit status or undef if it started anyway, its stderr)
sub must_fail {
	my ($conf) = @_;
	my $p = spawn('/dev/null', "$dir/mf.out", "$dir/mf.err", $milter, '-f',
	    '-c', $conf);
	$servers{$p} = 1;
	my $st = reap($p, 10);
	if (!defined $st) {
		kill 'KILL', $p;
		reap($p, 5);
	}
	return ($st, slurp("$dir/mf.err"));
}
write_file("$dir/target", "precious\n");
for my $case (['a regular file', sub { write_file($_[0], "precious\n") }],
    ['a symbolic link', sub { symlink("$dir/target", $_[0]) }],
    ['a directory', sub { mkdir $_[0] }]) {
	my ($what, $make) = @$case;
	my $p = "$dir/notsock." . length($what);
	$make->($p);
	write_file("$dir/ns.conf", conf_text(%base, Socket => "unix:$p",
	    PidFile => "$dir/ns.pid"));
	($st, $err) = must_fail("$dir/ns.conf");
	ok(defined $st && $st == 1 && $err =~ /not a socket.*not removing/,
	    "Socket unix:PATH on $what: refused, saying why")
	    or diag(defined $st ? "$st: $err" : 'it started');
	ok((-l $p || -e $p) && ($what ne 'a regular file' ||
	    slurp($p) eq "precious\n"), "... and $what is left in place");
}
is(slurp("$dir/target"), "precious\n", '... and the link\'s target too');

# At stop, the socket is removed only if it still is the one we made.
write_file("$dir/rep.conf", conf_text(%base, Socket => "unix:$path",
    PidFile => "$dir/rep.pid"));
$pid = start("$dir/rep.conf", $path, "$dir/rep.log");
ok($pid, 'testmilter starts on a UNIX socket') or diag(slurp("$dir/rep.log"));
unlink $path;
write_file($path, "not ours\n");
kill 'TERM', $pid;
is(reap($pid, 10), 0, 'it stops after its socket file was replaced');
is(slurp($path), "not ours\n", '... and leaves the file now at that path')
    or diag(slurp("$dir/rep.log"));
like(slurp("$dir/rep.log"), qr/was replaced while we ran; leaving it/,
    '... saying so');
unlink $path;

# Background mode: the starting process returns once the daemon serves.
write_file("$dir/bg.conf", conf_text(%base, Socket => "unix:$path",
    PidFile => "$dir/bg.pid", Background => 'yes'));
($st, $out, $err) = run('/dev/null', $milter, '-c', "$dir/bg.conf");
my $bg = slurp("$dir/bg.pid");
chomp $bg;
$servers{$bg} = 1 if $bg =~ /^\d+$/;
ok($st == 0 && $bg =~ /^\d+$/ && kill(0, $bg),
    'without -f it detaches and the PidFile names the daemon');
($st, $out, $err) = run($plain, $client, '-s', "unix:$path");
ok($st == 0 && $out =~ /X-Test-Milter: one/, 'the detached daemon serves');
kill 'TERM', $bg if $bg =~ /^\d+$/;
my $gone = 0;
for (1 .. 250) {
	last if ($gone = !kill(0, $bg));
	sleep 0.02;
}
ok($gone && !-e "$dir/bg.pid", 'the detached daemon stops and removes its PidFile');
delete $servers{$bg};

# UserID: privileges are dropped after the socket is opened.
SKIP: {
	skip 'not root', 4 if $> != 0;
	my $nobody = getpwnam('nobody');
	skip 'no user nobody', 4 unless defined $nobody;
	my $rundir = "$dir/run";
	mkdir $rundir;
	chown $nobody, -1, $rundir;
	my $upath = "$rundir/tm.sock";
	write_file("$dir/user.conf", conf_text(%base, Socket => "unix:$upath",
	    PidFile => "$rundir/tm.pid", UserID => 'nobody'));
	$pid = start("$dir/user.conf", $upath, "$dir/user.log");
	my ($uid) = slurp("/proc/$pid/status") =~ /^Uid:\s+(\d+)/m if $pid;
	is($uid, $nobody, 'UserID nobody: the daemon runs as nobody')
	    or diag(slurp("$dir/user.log"));
	is((lstat $upath)[4], $nobody, '... and owns its socket');
	($st, $out, $err) = run($plain, $client, '-s', "unix:$upath");
	ok($st == 0 && $out =~ /X-Test-Milter: one/, '... and serves');
	kill 'TERM', $pid if $pid;
	ok($pid && defined reap($pid, 10) && !-e "$rundir/tm.pid",
	    '... and removes its PidFile at exit');
}

done_testing();
