# latency.gp — latency percentile curves per allocator configuration, log-log.
# Data blocks (one per configuration): a title line, then "x latency_ns" rows with
# x = 1 / (1 - p) for percentile p, so each decade on the x axis is one more nine.
load lib.'/common.gp'
set logscale xy 10
set xrange [1:*]
set xtics ('0' 1, '50' 2, '90' 10, '99' 100, '99.9' 1e3, '99.99' 1e4, '99.999' 1e5, \
	'99.9999' 1e6, '99.99999' 1e7)
set xlabel 'percentile [%]'
set ylabel 'latency [ns] (log scale)'
plot for [i=0:n-1] data index i using 1:2 with lines lw 2 lc col(i) dt dash(i) \
	title columnheader(1)
