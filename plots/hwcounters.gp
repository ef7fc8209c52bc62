# hwcounters.gp — hardware counters per operation, per configuration, log scale.
load lib.'/common.gp'
set xlabel 'event'
set ylabel 'events per operation (median, bars: min..max; log scale)'
set logscale y 10
load lib.'/bars.gp'
