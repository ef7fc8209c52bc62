# faults_time.gp — page faults (userfaultfd events) over time, cumulative, all regions.
# Data blocks (one per configuration): a title line, then "t_ms cumulative_faults".
load lib.'/common.gp'
set xlabel 'time [ms]'
set ylabel 'page faults (cumulative)'
set yrange [0:*]
plot for [i=0:n-1] data index i using 1:2 with steps lw 2 lc col(i) dt dash(i) title columnheader(1)
