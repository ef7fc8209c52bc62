# internal_frag.gp — internal fragmentation (1 - requested / usable bytes of the live blocks at
# the peak) per workload and configuration: what size classes, headers and rounding cost.
load lib.'/common.gp'
set xlabel 'workload'
set ylabel '1 - requested / usable bytes (median, bars: min..max)'
set yrange [0:*]
load lib.'/bars.gp'
