# memory.gp — footprint and live bytes over time, per allocator configuration.
# Data blocks (footprint, then live bytes of the same cell, each only when measured): a
# title line, then "t_ms bytes" rows. Solid: footprint; dashed: live bytes; the colour is
# the allocator's.
load lib.'/common.gp'
set xlabel 'time [ms]'
set ylabel 'memory [MiB]'
set yrange [0:*]
plot for [i=0:n-1] data index i using 1:($2/1048576.) with lines lw 2 dt dash(i) lc col(i) \
	title columnheader(1)
