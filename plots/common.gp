# common.gp — terminal, output, title and style shared by every figure.
#
# mmbench plot runs each script as
#   gnuplot -e "lib='plots'; fmt='png'; out='...'; data='...'; ttl='...'; n=3" SCRIPT.gp
# lib: this folder; fmt: png (pngcairo) or svg; out: the image to write; data: the
# script's data file (written by harness/plot.c from the results folder); ttl: the
# title; n: how many series (data blocks or bar series) it holds; cols and dts: per
# block (or bar series), its colour (linetype 1..16 below, one per allocator label of the
# run, the same in every figure) and dash type. Text is not "enhanced", so allocator
# labels such as tcache_count=0 print as written.
if (fmt eq 'svg') {
	set terminal svg size 1000,620 dynamic noenhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
	set terminal pngcairo size 1000,620 noenhanced font 'DejaVu Sans,11'
}
set output out
set title ttl
set grid
set key outside right top
# The palette: linetype k's colour is allocator label k's (harness/plot.c plot_colour).
array pal[16] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', \
	'#e377c2', '#17becf', '#7f7f7f', '#bcbd22', '#000080', '#008080', '#800000', \
	'#808000', '#ff1493', '#4b0082']
do for [k=1:16] { set linetype k lc rgb pal[k] }
col(i) = word(cols, i + 1) + 0
dash(i) = word(dts, i + 1) + 0
