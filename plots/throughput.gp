# throughput.gp — throughput against thread count per allocator configuration.
# Data blocks (one per configuration): a title line, then "threads median min max"
# in operations per second over the repetitions. thr: the thread counts, "1 2 4".
load lib.'/common.gp'
set logscale x 2
set xtics ()
do for [w in thr] { set xtics add (w w+0) }
set xrange [thmin / 1.3 : thmax * 1.3]
set yrange [0:*]
set xlabel 'threads'
set ylabel 'throughput [million ops/s] (median, bars: min..max)'
plot for [i=0:n-1] data index i using 1:($2/1e6):($3/1e6):($4/1e6) with yerrorlines lw 2 \
	pt 7 lc col(i) title columnheader(1)
