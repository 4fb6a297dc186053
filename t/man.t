#!/usr/bin/perl
# man.t - the manual pages: clean under mandoc -Tlint, and each daemon's
# .conf.5 page documents exactly the keywords its binary accepts.
#
# For every man/*.[0-9]: `mandoc -Tlint` reports nothing (messages about
# other manuals missing from this host's database are not the page's).
# For every man/DAEMON.conf.5 whose daemon has a keyword table (as
# $BUILD/t/tools/confkw -l lists them), the table is read from the
# binary with `confkw DAEMON` and compared with the page: the
# ".It Cm NAME" items of its KEYWORDS and IGNORED KEYWORDS sections
# (subsections included) are exactly the table's keywords, none twice.
# A page laid out as milter-dkim.conf.5 is (an IGNORED KEYWORDS section
# apart from KEYWORDS) is held to more:
#   - implemented keywords under KEYWORDS, ignored ones under IGNORED
#     KEYWORDS, each section in alphabetical order;
#   - each implemented keyword's entry states the table's type and its
#     default ("Default: X", or "from MIN to MAX; default X" for an
#     integer), and each ignored keyword's entry the table's reason;
#   - the built-in configuration shown in DESCRIPTION is the binary's
#     (`confkw -d DAEMON`).
use strict;
use warnings;
use File::Basename qw(basename dirname);
use Cwd qw(abs_path);

my $src = abs_path(dirname(__FILE__) . '/..');
my $build = $ENV{BUILD} // "$src/build/plain";
my $confkw = "$build/t/tools/confkw";
my $n = 0;
my $failed = 0;

# ok - one TAP test point; extra lines become diagnostics
sub ok {
	my ($cond, $name, @diag) = @_;
	$n++;
	print(($cond ? "ok" : "not ok") . " $n - $name\n");
	if (!$cond) {
		$failed++;
		print "# $_\n" for map { split /\n/ } @diag;
	}
	return $cond;
}

# skip - a test point that cannot run here
sub skip {
	my ($name, $why) = @_;
	$n++;
	print "ok $n - $name # SKIP $why\n";
}

# run - output (stdout and stderr) and exit status of a command
sub run {
	my @cmd = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		open(STDERR, '>&', \*STDOUT);
		exec(@cmd) or exit 127;
	}
	local $/;
	my $out = <$fh> // '';
	close($fh);
	return ($out, $? >> 8);
}

# norm - text without mdoc macro names and escapes, spaces collapsed,
# lower case, for "does the entry say X" checks
sub norm {
	my ($text) = @_;
	my @words;
	for my $line (split /\n/, $text) {
		next if $line =~ /^\.\\"/;
		$line =~ s/^\.\S+\s*//;
		push @words, $line;
	}
	my $s = join(' ', @words);
	$s =~ s/\\&//g;
	$s =~ s/\s+/ /g;
	return lc($s);
}

# page_sections - { "SECTION NAME" => [ lines ] } of an mdoc page
sub page_sections {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	my (%sec, $cur);
	while (my $line = <$fh>) {
		chomp $line;
		if ($line =~ /^\.Sh\s+"?(.*?)"?\s*$/) {
			$cur = $1;
			$sec{$cur} = [];
		} elsif (defined $cur) {
			push @{$sec{$cur}}, $line;
		}
	}
	return \%sec;
}

# entries - the ".It Cm NAME" items of a section, in order, each with the
# rest of its .It line and its text (shared by consecutive bare items)
sub entries {
	my ($lines) = @_;
	my (@items, @pending, $body, $depth);
	$depth = 0;
	$body = '';
	for my $line (@$lines) {
		$depth++ if $line =~ /^\.Bl\b/;
		if ($line =~ /^\.El\b/) {
			$depth--;
			next if $depth > 0;
		}
		if ($depth == 1 && $line =~ /^\.It\b/) {
			if ($body =~ /\S/) {
				$_->{body} = $body for @pending;
				@pending = ();
				$body = '';
			}
			if ($line =~ /^\.It\s+Cm\s+(\S+)\s*(.*)$/) {
				my $it = { name => $1, rest => $2, body => '' };
				push @items, $it;
				push @pending, $it;
			}
			next;
		}
		$body .= "$line\n" if $depth >= 1;
	}
	$_->{body} = $body for @pending;
	return @items;
}

# out_of_order - the first pair of names not in case-insensitive
# alphabetical order, or an empty list
sub out_of_order {
	my @names = @_;
	for my $i (1 .. $#names) {
		return ($names[$i - 1], $names[$i])
		    if lc($names[$i - 1]) gt lc($names[$i]);
	}
	return ();
}

# type_words - how a page may spell a table type on the .It line
my %type_words = (
	boolean => qr/^Ar\s+boolean\b/,
	integer => qr/^Ar\s+integer\b/,
	string	=> qr/^Ar\s+(?:string|data set|"data set"|host list|"host list"|header list|"header list"|action)\b/,
);

# check_conf_page - the keyword tests for one DAEMON.conf.5
sub check_conf_page {
	my ($page, $daemon) = @_;
	my ($out, $rc) = run($confkw, $daemon);
	return ok(0, "$daemon: confkw lists the keyword table", $out)
	    if $rc != 0;
	my %table;
	for my $line (split /\n/, $out) {
		my ($name, $type, $def, $extra) = split /\t/, $line;
		$table{$name} = { type => $type, def => $def, extra => $extra };
	}
	my $sec = page_sections($page);
	my @kw = entries($sec->{'KEYWORDS'} // []);
	my @ig = entries($sec->{'IGNORED KEYWORDS'} // []);
	my $base = basename($page);

	my %in_kw = map { $_->{name} => $_ } @kw;
	my %in_ig = map { $_->{name} => $_ } @ig;

	my @missing = grep { !$in_kw{$_} && !$in_ig{$_} } sort keys %table;
	ok(!@missing, "$base: every keyword of $daemon is documented",
	    "missing: @missing");
	my @extra = grep { !$table{$_->{name}} } @kw, @ig;
	ok(!@extra, "$base: documents no keyword $daemon lacks",
	    "unknown: " . join(' ', map { $_->{name} } @extra));
	my %seen;
	my @twice = grep { $seen{$_}++ } map { $_->{name} } @kw, @ig;
	ok(!@twice, "$base: no keyword is documented twice", "twice: @twice");

	if (!exists $sec->{'IGNORED KEYWORDS'}) {
		skip("$base: layout checks (sections, order, types, defaults, " .
		    "reasons, built-in configuration)",
		    "no IGNORED KEYWORDS section");
		return;
	}
	@extra = grep { $table{$_->{name}} &&
	    $table{$_->{name}}{type} eq 'ignored' } @kw;
	ok(!@extra, "$base: KEYWORDS lists no ignored keyword",
	    "ignored: " . join(' ', map { $_->{name} } @extra));
	@extra = grep { $table{$_->{name}} &&
	    $table{$_->{name}}{type} ne 'ignored' } @ig;
	ok(!@extra, "$base: IGNORED KEYWORDS lists only ignored keywords",
	    "not ignored: " . join(' ', map { $_->{name} } @extra));
	my @bad = out_of_order(map { $_->{name} } @kw);
	ok(!@bad, "$base: KEYWORDS is in alphabetical order",
	    @bad ? "'$bad[0]' before '$bad[1]'" : ());
	@bad = out_of_order(map { $_->{name} } @ig);
	ok(!@bad, "$base: IGNORED KEYWORDS is in alphabetical order",
	    @bad ? "'$bad[0]' before '$bad[1]'" : ());

	my @wrong;
	for my $it (grep { $table{$_->{name}} } @kw) {
		my $t = $table{$it->{name}};
		my $re = $type_words{$t->{type}};
		push @wrong, "$it->{name}: .It line says '$it->{rest}', " .
		    "table type is $t->{type}"
		    if !defined $re || $it->{rest} !~ $re;
	}
	ok(!@wrong, "$base: each keyword's type is the table's", @wrong);

	@wrong = ();
	for my $it (grep { $table{$_->{name}} } @kw) {
		my $t = $table{$it->{name}};
		my $body = norm($it->{body});
		next if $t->{def} eq '-';
		my $want = $t->{type} eq 'integer' ?
		    do { my ($lo, $hi) = split /\.\./, $t->{extra};
		    "from $lo to $hi; default $t->{def}" } :
		    "default: " . lc($t->{def});
		push @wrong, "$it->{name}: entry lacks '$want'"
		    if index($body, lc($want)) < 0;
	}
	ok(!@wrong, "$base: each keyword's default (and range) is the " .
	    "table's", @wrong);

	@wrong = ();
	for my $it (grep { $table{$_->{name}} } @ig) {
		my $note = norm($table{$it->{name}}{extra});
		push @wrong, "$it->{name}: entry lacks the reason '$note'"
		    if index(norm($it->{body}), $note) < 0;
	}
	ok(!@wrong, "$base: each ignored keyword gives the table's reason",
	    @wrong);

	my ($builtin) = run($confkw, '-d', $daemon);
	my $desc = norm(join("\n", @{$sec->{'DESCRIPTION'} // []}));
	my @lines = grep { /\S/ && !/^\s*#/ } split /\n/, $builtin;
	@wrong = grep { index($desc, norm($_)) < 0 } @lines;
	ok(@lines && !@wrong, "$base: DESCRIPTION shows the built-in " .
	    "configuration of $daemon", map { "not shown: $_" } @wrong);
}

my @pages = sort glob("$src/man/*.[0-9]");
ok(scalar @pages, "there are manual pages in man/");

my ($mv) = run('mandoc', '-V');
my $have_mandoc = $mv =~ /mandoc/;
for my $page (@pages) {
	my $name = basename($page);
	if (!$have_mandoc) {
		skip("$name: mandoc -Tlint is clean", "mandoc not installed");
		next;
	}
	my ($out) = run('mandoc', '-Tlint', $page);
	my @msgs = grep { !/referenced manual not found|mandoc\.db/ }
	    split /\n/, $out;
	ok(!@msgs, "$name: mandoc -Tlint is clean", @msgs);
}

my ($list, $rc) = run($confkw, '-l');
my %has_table = $rc == 0 ? map { $_ => 1 } split /\n/, $list : ();
ok($rc == 0 && scalar(%has_table), "confkw lists the daemons with a keyword table",
    $list);
for my $page (grep { /\.conf\.5$/ } @pages) {
	my $daemon = basename($page, '.conf.5');
	if (!$has_table{$daemon}) {
		skip("$daemon.conf.5: keywords match the table",
		    "no keyword table for $daemon in confkw");
		next;
	}
	check_conf_page($page, $daemon);
}
# every daemon with a table has a page
for my $daemon (sort keys %has_table) {
	ok(-f "$src/man/$daemon.conf.5", "$daemon has a $daemon.conf.5 page");
	ok(-f "$src/man/$daemon.8", "$daemon has a $daemon.8 page");
}

print "1..$n\n";
exit($failed ? 1 : 0);
