#!/usr/bin/perl
# milter_limits.t - the engine's limits through the daemon runtime:
# MilterCommandTimeout, MilterMessageTimeout and MaximumConnections set in
# a configuration file (testmilter, on 127.0.0.1), each hit by a raw
# client, with the warning each logs; a reload changes the connection
# limit at once.
#
# Needs BUILD.  The server started here listens on 127.0.0.1 and is
# killed by its PID at exit.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More;

my $build = $ENV{BUILD} or plan skip_all => 'BUILD is not set';
my $milter = "$build/t/tools/testmilter";
my $client = "$build/t/tools/milterclient";
plan skip_all => 'testmilter or milterclient not built'
    unless -x $milter && -x $client;
# wide margins: sanitizer builds and a shared machine are slow
my $slow = ($ENV{SANITIZE} // '') eq '1' ? 3 : 1;

my $dir = tempdir('milter-limits-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $pid;
END { kill 'KILL', $pid if $pid; }
$SIG{INT} = $SIG{TERM} = sub { kill 'KILL', $pid if $pid; exit 1 };

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

my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp', Listen => 1) or die "socket: $!";
my $port = $s->sockport;
close $s;

my $conf = "$dir/tm.conf";
my $log = "$dir/tm.log";
sub conf {
	my ($max) = @_;
	write_file($conf, "Socket inet:$port\@127.0.0.1\nSyslog no\n" .
	    "HeaderValue one\nMilterCommandTimeout 1\n" .
	    "MilterMessageTimeout 3\nMaximumConnections $max\n");
}
conf(2);
$pid = fork // die "fork: $!";
if ($pid == 0) {
	open STDIN, '<', '/dev/null';
	open STDOUT, '>', '/dev/null';
	open STDERR, '>', $log;
	exec $milter, '-f', '-c', $conf or exit 127;
}
my $up = 0;
for (1 .. 250) {
	last if $up = slurp($log) =~ /listening on/;
	sleep 0.02;
}
ok($up, 'testmilter starts with the three keywords set') or
    BAIL_OUT(slurp($log));

# pkt - one milter packet
sub pkt {
	my ($cmd, $data) = @_;
	return pack('N', length($data) + 1) . $cmd . $data;
}
my $optneg = pkt('O', pack('NNN', 6, 0x1ff, 0x1fffff));

# dial - a negotiated connection, or undef if the daemon closed it
sub dial {
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp') or return undef;
	$c->autoflush(1);
	print $c $optneg;
	my $sel = IO::Select->new($c);
	return undef unless $sel->can_read(5 * $slow);
	my $n = sysread($c, my $h, 4);
	return undef unless $n && $n == 4;
	my $len = unpack('N', $h);
	sysread($c, my $rest, $len);
	return $c;
}

# closed_within - whether the daemon closes c within secs
sub closed_within {
	my ($c, $secs) = @_;
	my $sel = IO::Select->new($c);
	my $end = time + $secs;
	while (time < $end) {
		next unless $sel->can_read(0.05);
		my $n = sysread($c, my $b, 4096);
		return 1 if !defined $n || $n == 0;
	}
	return 0;
}

# log_has - wait (at most 3 s) for a line matching re in the log
sub log_has {
	my ($re) = @_;
	for (1 .. 150) {
		return 1 if slurp($log) =~ $re;
		sleep 0.02;
	}
	return 0;
}

# 1. a command dribbled one byte every 0.2 s
my $c = dial();
ok($c, 'a connection is negotiated');
my $helo = pkt('H', "a-helo-name-sent-one-byte-at-a-time.example\0");
my $t0 = time;
my $cut = 0;
for my $byte (split //, $helo) {
	last unless defined send($c, $byte, 0);
	if (closed_within($c, 0.2)) {
		$cut = 1;
		last;
	}
}
my $took = time - $t0;
ok($cut && $took >= 0.8 && $took < 3 * $slow,
    sprintf('a command dribbled a byte every 0.2 s is cut off at '.
    'MilterCommandTimeout 1 (after %.1f s; sending it takes %.1f s)', $took,
    length($helo) * 0.2));
ok(log_has(qr/did not arrive whole within 1 s \(MilterCommandTimeout\)/),
    '... and the daemon logs why');
close $c;

# 2. whole header fields every 0.5 s within one message
$c = dial();
print $c pkt('C', "slow\0" . '4' . pack('n', 2525) . "192.0.2.9\0") .
    pkt('M', "<a\@x>\0") . pkt('R', "<b\@y>\0");
sleep 0.2;
sysread($c, my $junk, 4096);
$t0 = time;
$cut = 0;
for (1 .. 20) {
	last unless defined send($c, pkt('L', "X-Slow\0 1\0"), 0);
	if (closed_within($c, 0.5)) {
		$cut = 1;
		last;
	}
}
$took = time - $t0;
ok($cut && $took >= 2.5 && $took < 4 + 3 * $slow,
    sprintf('header fields sent whole every 0.5 s are cut off at ' .
    'MilterMessageTimeout 3 (after %.1f s)', $took));
ok(log_has(qr/content did not arrive within 3 s \(MilterMessageTimeout\)/),
    '... and the daemon logs why');
close $c;

# 3. MaximumConnections 2: the third is closed at once, and logged
my $c1 = dial();
my $c2 = dial();
ok($c1 && $c2, 'MaximumConnections 2: two connections are served');
$t0 = time;
my $c3 = dial();
$took = time - $t0;
ok(!$c3 && $took < 1 * $slow, sprintf('the third is closed at once ' .
    '(%.2f s), not left to time out', $took));
ok(log_has(qr/2 connections served, the limit \(MaximumConnections\): 1 new connection refused/),
    '... and the daemon logs the limit');

# 4. a reload raises the limit at once
conf(3);
kill 'HUP', $pid;
ok(log_has(qr/configuration reloaded/), 'SIGHUP reloads');
$c3 = dial();
ok($c3, 'with MaximumConnections 3 the third connection is served');
close $_ for grep { defined } $c1, $c2, $c3;

# 5. a whole message still passes
my $msg = "$dir/m.eml";
write_file($msg, "From: a\@example.org\nSubject: s\n\nbody\n");
my $out = '';
for (1 .. 50) {		# until the closed connections have ended
	$out = `$client -s inet:$port\@127.0.0.1 < $msg 2>&1`;
	last if $out =~ /X-Test-Milter: one/;
	sleep 0.1;
}
like($out, qr/X-Test-Milter: one/, 'a normal message is served');

kill 'TERM', $pid;
my $st;
for (1 .. 500) {
	if (waitpid($pid, WNOHANG) == $pid) {
		$st = $? >> 8;
		last;
	}
	sleep 0.02;
}
is($st, 0, 'SIGTERM: exit 0');
$pid = undef;
unlike(slurp($log), qr/AddressSanitizer|LeakSanitizer|runtime error/,
    'no sanitizer report');
done_testing();
