#!/usr/bin/perl
# dkim_interop.t - our DKIM signatures verify with python3-dkim,
# Mail::DKIM and OpenDKIM; theirs verify with dkimtool.
#
# Keys are made at run time (openssl, dkimtool keygen) in a temporary
# directory; every peer reads the same key file instead of DNS:
#	python3-dkim	a dnsfunc reading the file
#	Mail::DKIM	Mail::DKIM::DNS::query replaced by a file reader
#	OpenDKIM	"opendkim -t" with the TestPublicKeys setting
# Mail::DKIM 1.20230212 (Debian 12) has no Ed25519, so only RSA is
# exchanged with it.  OpenDKIM signs through opendkim-testmsg (rsa-sha1).
use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

my $build = $ENV{BUILD} or plan skip_all => 'BUILD is not set';
my $tool = "$build/t/tools/dkimtool";
-x $tool or plan skip_all => "$tool not built";
my $python = '/usr/bin/python3';
my $have_py = system("$python -c 'import dkim' 2>/dev/null") == 0;
my $have_perl = eval { require Mail::DKIM::Verifier;
    require Mail::DKIM::Signer; require Net::DNS; 1 };
my $have_odk = -x '/usr/sbin/opendkim';
my $have_odk_sign = -x '/usr/sbin/opendkim-testmsg';

my $dir = tempdir(CLEANUP => 1);
my @canons = qw(simple/simple simple/relaxed relaxed/simple relaxed/relaxed);

sub slurp { my ($f) = @_; open(my $fh, '<:raw', $f) or die "$f: $!";
    local $/; my $s = <$fh>; close($fh); return $s }
sub spew { my ($f, $s) = @_; open(my $fh, '>:raw', $f) or die "$f: $!";
    print $fh $s; close($fh) }

# keys: RSA 2048 (PKCS#1, which all peers read) and Ed25519 (a seed)
system("openssl genrsa -traditional -out $dir/rsa.pem 2048 2>/dev/null") == 0
    or BAIL_OUT('openssl cannot make an RSA key');
open(my $rnd, '<:raw', '/dev/urandom') or die;
read($rnd, my $seed, 32) == 32 or die;
close($rnd);
require MIME::Base64;
spew("$dir/ed.seed", MIME::Base64::encode_base64($seed, '') . "\n");
my %rec;
for my $k (['rsa', 'rsa.pem'], ['ed', 'ed.seed']) {
    chomp($rec{$k->[0]} = `$tool record $dir/$k->[1]`);
    ok($rec{$k->[0]} =~ /^v=DKIM1; k=(rsa|ed25519); p=\S+$/,
        "dkimtool record publishes the $k->[0] key");
}
my $keys = "$dir/keys";
spew($keys, join('', map { "$_._domainkey.example.com $rec{$_}\n" }
    sort keys %rec));

my $msg = slurp('t/data/dkim/plain.eml');
spew("$dir/plain.eml", $msg);

# --- python3-dkim helpers -------------------------------------------
spew("$dir/py.py", <<'PY');
import sys, dkim
def keys(path):
    d = {}
    for line in open(path):
        n, _, v = line.rstrip("\n").partition(" ")
        d[n.rstrip(".").lower()] = v
    return d
def dnsfunc_for(path):
    k = keys(path)
    return lambda name, timeout=5: k.get(name.decode().rstrip(".").lower())
mode = sys.argv[1]
if mode == "verify":
    msg = open(sys.argv[3], "rb").read()
    ok = dkim.verify(msg, dnsfunc=dnsfunc_for(sys.argv[2]), minkey=1024)
    print("pass" if ok else "fail")
else:
    sel, key, canon, alg = sys.argv[2:6]
    msg = open(sys.argv[6], "rb").read()
    h, b = canon.encode().split(b"/")
    sig = dkim.sign(msg, sel.encode(), b"example.com",
        open(key, "rb").read(), canonicalize=(h, b),
        signature_algorithm=alg.encode(),
        include_headers=[b"from", b"to", b"subject", b"date"])
    sys.stdout.buffer.write(sig + msg)
PY

sub py_verify { my ($file) = @_;
    chomp(my $r = `$python $dir/py.py verify $keys $file 2>&1`); return $r }

# --- Mail::DKIM helpers ------------------------------------------------
sub perl_setup {
    no warnings qw(redefine once);
    *Mail::DKIM::DNS::query = sub {
        my ($name, $type) = @_;
        open(my $fh, '<', $keys) or die;
        while (my $l = <$fh>) {
            chomp $l;
            my ($n, $v) = split(/ /, $l, 2);
            next unless lc($n) eq lc($name);
            my @s = unpack('(A255)*', $v);
            return Net::DNS::RR->new(name => $name, type => 'TXT',
                txtdata => \@s);
        }
        $@ = 'NXDOMAIN';
        return;
    };
}
sub perl_verify { my ($text) = @_;
    my $v = Mail::DKIM::Verifier->new();
    $v->PRINT($text);
    $v->CLOSE;
    my @s = $v->signatures;
    return @s ? join(',', map { $_->result_detail } @s) : 'none' }
sub perl_sign { my ($canon) = @_;
    my $s = Mail::DKIM::Signer->new(Algorithm => 'rsa-sha256',
        Method => $canon, Domain => 'example.com', Selector => 'rsa',
        KeyFile => "$dir/rsa.pem", Headers => 'from:to:subject:date');
    $s->PRINT($msg);
    $s->CLOSE;
    return $s->signature->as_string . "\r\n" . $msg }

# --- OpenDKIM helpers ----------------------------------------------------
spew("$dir/opendkim.conf", "TestPublicKeys $keys\nMinimumKeyBits 1024\n" .
    "Syslog no\n");
sub odk_verify { my ($file) = @_;
    my $out = `/usr/sbin/opendkim -x $dir/opendkim.conf -vvv -t $file 2>&1`;
    my @r = $out =~ /\bdkim=(\w+)/g;
    return @r ? join(',', @r) : 'none' }

# --- our signatures, their verifiers --------------------------------------
for my $key (['rsa', 'rsa.pem'], ['ed', 'ed.seed']) {
    for my $c (@canons) {
        my $name = "$key->[0] $c";
        my $signed = `$tool sign -d example.com -s $key->[0] -k $dir/$key->[1] -c $c < $dir/plain.eml`;
        ok($? == 0 && $signed =~ /^DKIM-Signature: v=1/, "dkimtool signs ($name)");
        my $f = "$dir/ours-$key->[0]-" . ($c =~ tr{/}{-}r) . '.eml';
        spew($f, $signed);
        like(`$tool verify -k $keys < $f`, qr/^pass /, "dkimtool verifies its own ($name)");
      SKIP: {
            skip 'python3-dkim not installed', 1 unless $have_py;
            is(py_verify($f), 'pass', "python3-dkim verifies ours ($name)");
        }
      SKIP: {
            skip 'Mail::DKIM not installed', 1 unless $have_perl;
            skip 'Mail::DKIM 1.20230212 has no Ed25519', 1 if $key->[0] eq 'ed';
            perl_setup();
            is(perl_verify($signed), 'pass', "Mail::DKIM verifies ours ($name)");
        }
      SKIP: {
            skip 'opendkim not installed', 1 unless $have_odk;
            is(odk_verify($f), 'pass', "OpenDKIM verifies ours ($name)");
        }
    }
}

# --- their signatures, our verifier ----------------------------------------
SKIP: {
    skip 'python3-dkim not installed', 8 unless $have_py;
    for my $alg (['rsa', 'rsa.pem', 'rsa-sha256'], ['ed', 'ed.seed', 'ed25519-sha256']) {
        for my $c (@canons) {
            my $f = "$dir/py-$alg->[0]-" . ($c =~ tr{/}{-}r) . '.eml';
            system("$python $dir/py.py sign $alg->[0] $dir/$alg->[1] $c $alg->[2] $dir/plain.eml > $f");
            like(`$tool verify -k $keys < $f`, qr/^pass d=example.com s=$alg->[0] a=$alg->[2] /,
                "dkimtool verifies python3-dkim's ($alg->[2] $c)");
        }
    }
}
SKIP: {
    skip 'Mail::DKIM not installed', 4 unless $have_perl;
    for my $c (@canons) {
        my $f = "$dir/perl-" . ($c =~ tr{/}{-}r) . '.eml';
        spew($f, perl_sign($c));
        like(`$tool verify -k $keys < $f`, qr/^pass d=example.com s=rsa a=rsa-sha256 /,
            "dkimtool verifies Mail::DKIM's (rsa-sha256 $c)");
    }
}
SKIP: {
    skip 'opendkim-testmsg not installed', 2 unless $have_odk_sign;
    # opendkim-testmsg signs with rsa-sha1, which RFC 8301 retired
    my $f = "$dir/opendkim.eml";
    system("/usr/sbin/opendkim-testmsg -C -d example.com -s rsa -k $dir/rsa.pem < $dir/plain.eml > $f");
    like(`$tool verify -1 -k $keys < $f`, qr/^pass d=example.com s=rsa a=rsa-sha1 /,
        "dkimtool verifies opendkim-testmsg's (rsa-sha1, allowed)");
    like(`$tool verify -k $keys < $f`, qr/^fail .*rsa-sha1 not allowed/,
        "... and fails it by default (RFC 8301)");
}

# --- a tampered message fails everywhere -------------------------------------
{
    my $f = "$dir/ours-rsa-relaxed-relaxed.eml";
    my $t = slurp($f);
    $t =~ s/noon/nine/;
    my $tf = "$dir/tampered.eml";
    spew($tf, $t);
    like(`$tool verify -k $keys < $tf`, qr/^fail .*body hash did not verify/,
        'dkimtool: a changed body fails');
  SKIP: {
        skip 'python3-dkim not installed', 1 unless $have_py;
        is(py_verify($tf), 'fail', 'python3-dkim agrees it fails');
    }
  SKIP: {
        skip 'opendkim not installed', 1 unless $have_odk;
        is(odk_verify($tf), 'fail', 'OpenDKIM agrees it fails');
    }
}
done_testing();
