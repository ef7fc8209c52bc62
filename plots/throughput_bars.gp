# throughput_bars.gp — throughput per allocator configuration when the run has one
# thread count: one bar each (median, error bar min..max over the repetitions).
load lib.'/common.gp'
set xlabel ''
set ylabel 'throughput [ops/s] (median, bars: min..max)'
set format y '%.1s %c'
set yrange [0:*]
load lib.'/bars.gp'
