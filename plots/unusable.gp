# unusable.gp — the kernel's unusable free space index over time (orders 3 and 9).
# Data blocks in pairs per configuration (order 3, order 9): a title line, then
# "t_ms index" rows. 0 = every free page is in blocks of at least that order.
# Only configurations that measured an index have blocks (no legend entry otherwise);
# a pair member with no values has an empty title, which keeps it out of the legend.
load lib.'/common.gp'
set xlabel 'time [ms]'
set ylabel 'unusable free space index'
set yrange [0:*]
plot for [i=0:n-1] data index i using 1:2 with lines lw 2 dt i%2+1 lc i/2+1 \
	title columnheader(1)
