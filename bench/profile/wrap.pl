#!/usr/bin/perl
# A transparent wrapper that logs one line per program run: the profile's PATH shims are
# links to it (the program is the link's name), and `wrap.pl PROGRAM ARGS...` runs PROGRAM.
# It forks, execs the program, forwards signals, waits, appends to the run folder's calls.tsv
# and exits as the program did. CPU is the program's and its waited-for
# descendants' (getrusage of children), so a bash script's time includes its gcloud calls:
# each line carries its own id and its parent's, for the report to take nested runs apart.
# No modules but Cwd (to tell a link back to a shim): each costs start-up on every call (POSIX alone some 10 ms).
use strict;
use Cwd ();

# Filled in by suite.mjs when it copies this file into a run folder.
my $run = '@RUN@';
my ($getrusage, $clock_gettime) = @{ { x64 => [98, 228], arm64 => [165, 113] }->{'@ARCH@'} || [] };

my ($name) = $0 =~ m{([^/]+)$};
my @command = $name eq 'wrap.pl' ? @ARGV : ($name, @ARGV);
die "wrap.pl: no program to run\n" unless @command;

# The real program: the first one on PATH outside the run folder (or the path given).
my $program = $command[0];
if ($program !~ m{/}) {
  # A link elsewhere that leads back into the run folder (the build runner's per-image PATH links
  # the programs it finds on PATH, i.e. these shims) is the shim again, not the program.
  my ($found) = grep { index("$_/", "$run/") != 0 && -f "$_/$program" && -x _ && index(Cwd::abs_path("$_/$program") . '/', "$run/") != 0 }
    grep { $_ ne '' } split /:/, ($ENV{PATH} // '');
  # Each shimmed program as PATH gave it when the run began (pyenv's resolved by `pyenv which`).
  my %real = map { split /=/, $_, 2 } grep { $_ ne '' } split /;/, '@REAL@';
  # Found only as a link back to a shim (a build step's PATH holds nothing else): the real one.
  if (!$found && $real{$program}) { $program = $real{$program} }
  elsif (!$found) { print STDERR "$program: command not found\n"; exit 127 }
  else { $program = $found =~ m{/\.pyenv/shims$} && $real{$program} ? $real{$program} : "$found/$program" }
}

my $start = now();
# A shell may exec this wrapper as its last command: what it had waited for so far is not ours.
my ($user0, $sys0, $maxrss0) = children_usage();
my $id = sprintf '%d.%.6f', $$, $start;
my $parent = $ENV{ARPYPI_PROFILE_PARENT} // '';
my $outside = delete $ENV{ARPYPI_PROFILE_OUTSIDE} // '';
$ENV{ARPYPI_PROFILE_PARENT} = $id;

my $pid = fork // die "wrap.pl: fork: $!\n";
if ($pid == 0) {
  { exec { $program } $command[0], @command[1 .. $#command] }
  print STDERR "$command[0]: $!\n";
  exit 126;
}
for my $signal (qw(TERM INT HUP QUIT USR1 USR2 ALRM)) {
  $SIG{$signal} = sub { kill $signal, $pid };
}
waitpid $pid, 0; # perl retries it after each forwarded signal
my $status = $?;
my $wall = now() - $start;
my ($user, $sys, $maxrss) = children_usage();
($user, $sys) = ($user - $user0, $sys - $sys0);

my $argv = join ' ', map { (my $a = $_) =~ s/[\t\n\r]/ /g; $a } @command;
$argv = substr($argv, 0, 600) if length $argv > 600;
my $signal = $status & 127;
if (open my $out, '>>', "$run/calls.tsv") {
  # One write per line: appends from processes running side by side do not interleave.
  syswrite $out, join("\t", $id, $parent, $ENV{ARPYPI_PROFILE_FILE} // '', $outside, $name eq 'wrap.pl' ? 'hook' : 'shim',
    sprintf('%.6f', $start), sprintf('%.6f', $wall), sprintf('%.6f', $user), sprintf('%.6f', $sys),
    $maxrss, $signal ? "signal $signal" : $status >> 8, $<, $argv) . "\n";
  close $out;
}

if ($signal) {
  $SIG{$_} = 'DEFAULT' for keys %SIG;
  kill $signal, $$;
  exit 128 + $signal;
}
exit $status >> 8;

# Seconds since the epoch, to the microsecond (clock_gettime(2); Time::HiRes costs 5 ms to load).
sub now {
  my $buffer = "\0" x 16;
  return time unless $clock_gettime && syscall($clock_gettime, 0, $buffer) == 0;
  my ($seconds, $nanoseconds) = unpack 'q2', $buffer;
  return $seconds + $nanoseconds / 1e9;
}

# User and system seconds and peak RSS (kB) of the waited-for children, from getrusage(2)
# in microseconds (perl's times() rounds to 10 ms, which adds up over thousands of short runs).
sub children_usage {
  my $buffer = "\0" x 256;
  if ($getrusage && syscall($getrusage, -1, $buffer) == 0) {
    my ($us, $uu, $ss, $su, $rss) = unpack 'q5', $buffer;
    return ($us + $uu / 1e6, $ss + $su / 1e6, $rss);
  }
  my (undef, undef, $cu, $cs) = times;
  return ($cu, $cs, '');
}
