# size_classes.gp — size-class utilization (live objects / capacity) by class size.
# Data blocks, one per allocator configuration: a title line, then "class_bytes
# utilization" rows (size_classes.csv, at the live peak).
load lib.'/common.gp'
set xlabel 'size class [bytes]'
set ylabel 'utilization (live / capacity objects)'
set logscale x 2
set format x '%.0f'
set yrange [0:1.05]
plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 pt i+4 lc col(i) dt dash(i) \
	title columnheader(1)
