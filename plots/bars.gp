# bars.gp — grouped bars with error bars, loaded by the bar-chart scripts after their labels.
# Data: a header row ("x" "label1" "-" "-" "label2" ...), then one row per group:
# "group" median1 min1 max1 median2 min2 max2 ... (NaN = not measured); error bars
# span min..max over the repetitions.
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.75 border -1
set boxwidth 0.9
set xtics rotate by -20
plot for [i=0:n-1] data using (column(2+3*i)):(column(3+3*i)):(column(4+3*i)):xtic(1) \
	lc col(i) title columnheader(2+3*i)
