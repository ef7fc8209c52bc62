# program_rss.gp — peak resident set of each program cell, per program and allocator configuration.
load lib.'/common.gp'
set xlabel 'program'
set ylabel 'peak RSS, MiB (median, bars: min..max)'
set yrange [0:*]
load lib.'/bars.gp'
