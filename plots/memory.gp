# memory.gp — footprint and live bytes over time, per allocator configuration.
# Data blocks in pairs (footprint, then live bytes of the same cell): a title line,
# then "t_ms bytes" rows. Solid: footprint; dashed: live bytes; one colour per cell.
load lib.'/common.gp'
set xlabel 'time [ms]'
set ylabel 'memory [MiB]'
set yrange [0:*]
plot for [i=0:n-1] data index i using 1:($2/1048576.) with lines lw 2 dt i%2+1 lc i/2+1 \
	title columnheader(1)
