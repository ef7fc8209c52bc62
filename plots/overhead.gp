# overhead.gp — overhead ratio (peak footprint / peak live bytes) per workload and configuration.
load lib.'/common.gp'
set xlabel 'workload'
set ylabel 'peak footprint / peak live bytes (median, bars: min..max)'
set yrange [0:*]
load lib.'/bars.gp'
