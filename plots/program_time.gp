# program_time.gp — wall-clock time of each program cell, per program and allocator configuration.
load lib.'/common.gp'
set xlabel 'program'
set ylabel 'wall time, s (median, bars: min..max)'
set yrange [0:*]
load lib.'/bars.gp'
