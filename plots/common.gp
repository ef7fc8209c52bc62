# common.gp — terminal, output, title and style shared by every figure.
#
# mmbench plot runs each script as
#   gnuplot -e "lib='plots'; fmt='png'; out='...'; data='...'; ttl='...'; n=3" SCRIPT.gp
# lib: this folder; fmt: png (pngcairo) or svg; out: the image to write; data: the
# script's data file (written by harness/plot.c from the results folder); ttl: the
# title; n: how many series (data blocks or bar groups) it holds. Text is not
# "enhanced", so allocator labels such as tcache_count=0 print as written.
if (fmt eq 'svg') {
	set terminal svg size 1000,620 dynamic noenhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
	set terminal pngcairo size 1000,620 noenhanced font 'DejaVu Sans,11'
}
set output out
set title ttl
set grid
set key outside right top
