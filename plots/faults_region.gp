# faults_region.gp — page faults per instrumented region and phase, per configuration.
load lib.'/common.gp'
set xlabel 'region / phase'
set ylabel 'page faults per cell (median, bars: min..max)'
set yrange [0:*]
load lib.'/bars.gp'
