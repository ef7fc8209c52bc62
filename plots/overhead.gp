# overhead.gp — overhead ratio (peak footprint / peak live bytes) per workload and configuration.
load lib.'/common.gp'
set xlabel 'workload'
set ylabel 'peak footprint / peak live bytes (median, bars: min..max; log scale)'
# Ratios span 1 (a large live set) to thousands (churn keeps one block live):
# a log axis keeps both readable. Bars start at 1, the ideal ratio.
set logscale y
set yrange [1:*]
load lib.'/bars.gp'
