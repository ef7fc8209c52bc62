# unusable.gp — the kernel's unusable free space index over time (orders 3 and 9).
# Data blocks per configuration (order 3 solid, order 9 dashed, each only when measured):
# a title line, then "t_ms index" rows. 0 = every free page is in blocks of at least that
# order.
load lib.'/common.gp'
set xlabel 'time [ms]'
set ylabel 'unusable free space index'
set yrange [0:*]
plot for [i=0:n-1] data index i using 1:2 with lines lw 2 dt dash(i) lc col(i) \
	title columnheader(1)
