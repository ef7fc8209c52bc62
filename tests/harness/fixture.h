/*
 * fixture.h — hand-made results folders for the plot, report and compare
 * tests: meta.json, cells.csv with the columns the measurement helpers add
 * (alloc_p*_ns, free_p*_ns, hw_<event>_per_op with "n/a", sw_<event>), and
 * the side files latency.csv, timeline.csv and faults.csv in their
 * documented formats. Every value is derived from the cell's own numbers,
 * so a test can say what a figure or a comparison must show.
 */
#ifndef MMB_TEST_FIXTURE_H
#define MMB_TEST_FIXTURE_H

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../harness/metrics.h"

struct fx_cell {
	const char *alloc, *config;	/* config "" = defaults */
	const char *workload;
	unsigned threads;
	double ops_per_sec, alloc_p99_ns, footprint_bytes;
	const char *status;		/* NULL = "ok" */
};

static inline void fx_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static inline void fx_meta(const char *dir, int schema)
{
	char buf[2048];

	mkdir(dir, 0755);
	snprintf(buf, sizeof(buf),
		 "{\n  \"schema_version\": %d,\n  \"mmbench_version\": \"0.1.0\",\n"
		 "  \"git_revision\": \"fixture\",\n"
		 "  \"command_line\": [\"mmbench\", \"run\", \"-a\", \"glibc\", \"-r\", \"5\"],\n"
		 "  \"compiler\": \"gcc 12.2.0\",\n  \"kernel\": \"Linux test\",\n"
		 "  \"hostname\": \"fixture-host\",\n  \"cpu_model\": \"Fixture CPU <1> & \\\"2\\\"\",\n"
		 "  \"online_cpus\": 2,\n  \"start_time\": \"2026-11-26T15:00:00Z\",\n"
		 "  \"end_time\": \"2026-11-26T15:01:00Z\",\n  \"state\": \"complete\",\n"
		 "  \"seed\": 42,\n  \"threads\": [1, 2],\n"
		 "  \"topology\": {\n    \"packages\": 1,\n    \"cores\": [ 0, 1 ]\n  },\n"
		 "  \"allocators\": [\"glibc\", \"glibc:tcache_count=0\"]\n}\n", schema);
	fx_write(dir, "meta.json", buf);
}

/* cells.csv; with side != 0 also latency.csv, timeline.csv and faults.csv. */
static inline void fx_cells(const char *dir, const struct fx_cell *c, int n, int side)
{
	char path[512];
	FILE *f, *lat = NULL, *tl = NULL, *flt = NULL;

	snprintf(path, sizeof(path), "%s/cells.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs("cell,allocator,config,workload,params,threads,rep,seed,status,detail,malloc_provider,"
	      "ops,wall_ns,"
	      "ops_per_sec,allocs,frees,live_peak_bytes,footprint_peak_bytes,overhead_ratio,"
	      "rss_peak_bytes,minflt,majflt,cpu_user_ns,cpu_sys_ns,alloc_p50_ns,alloc_p90_ns,"
	      "alloc_p99_ns,alloc_p999_ns,alloc_p9999_ns,alloc_max_ns,free_p50_ns,free_p99_ns,"
	      "uffd_faults,hw_cycles_per_op,hw_cache-misses_per_op,sw_page-faults\n", f);
	if (side) {
		snprintf(path, sizeof(path), "%s/latency.csv", dir);
		lat = fopen(path, "w");
		snprintf(path, sizeof(path), "%s/timeline.csv", dir);
		tl = fopen(path, "w");
		snprintf(path, sizeof(path), "%s/faults.csv", dir);
		flt = fopen(path, "w");
		fputs("cell,op,lo_ns,hi_ns,count\n", lat);
		fputs("cell,t_ns,live_bytes,footprint_bytes,faults", tl);
		for (int o = 0; o <= 10; o++)
			fprintf(tl, ",unusable_o%d", o);
		fputc('\n', tl);
		fputs("cell,region,phase,t_ns,faults\n", flt);
	}
	for (int i = 0; i < n; i++) {
		const struct fx_cell *x = &c[i];
		int ok = !x->status;
		unsigned r = 1;
		double p99 = x->alloc_p99_ns, live = x->footprint_bytes / 2;

		for (int j = 0; j < i; j++)	/* repetition: earlier cells of the same key */
			r += !strcmp(c[j].alloc, x->alloc) && c[j].threads == x->threads &&
			     !strcmp(c[j].config ? c[j].config : "", x->config ? x->config : "") &&
			     !strcmp(c[j].workload ? c[j].workload : "churn",
				     x->workload ? x->workload : "churn");

		fprintf(f, "%d,%s,\"%s\",%s,\"size=64,batch=1\",%u,%u,42,%s,%s,%s,", i + 1, x->alloc,
			x->config ? x->config : "", x->workload ? x->workload : "churn", x->threads, r,
			ok ? "ok" : x->status, ok ? "" : "killed by signal 11 (SIGSEGV)",
			ok ? "libc.so.6" : "");
		if (!ok) {
			fputs(",,,,,,,,,,,,,,,,,,,,,,,,\n", f);
			continue;
		}
		fprintf(f, "1000000,%.0f,%.6g,500000,500000,%.0f,%.0f,%.6g,%.0f,120,0,%.0f,%.0f,"
			   "%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,n/a,%d\n",
			1e15 / x->ops_per_sec, x->ops_per_sec, live, x->footprint_bytes,
			x->footprint_bytes / live, x->footprint_bytes + 1e6, 1e15 / x->ops_per_sec,
			1e6, p99 / 4, p99 / 2, p99, p99 * 2, p99 * 4, p99 * 8, p99 / 5, p99 * 0.9,
			32.0 + i, 100.0 + 3 * i, 30 + i);
		if (!side)
			continue;
		/* histogram: most calls fast, a tail at p99 and beyond */
		fprintf(lat, "%d,alloc,%.0f,%.0f,450000\n%d,alloc,%.0f,%.0f,45000\n"
			     "%d,alloc,%.0f,%.0f,4950\n%d,alloc,%.0f,%.0f,50\n",
			i + 1, p99 / 8, p99 / 4, i + 1, p99 / 4, p99 / 2, i + 1, p99 / 2, p99, i + 1,
			p99, p99 * 8);
		fprintf(lat, "%d,free,%.0f,%.0f,495000\n%d,free,%.0f,%.0f,5000\n", i + 1, p99 / 10,
			p99 / 5, i + 1, p99 / 5, p99);
		for (int t = 0; t <= 10; t++) {
			fprintf(tl, "%d,%d,%.0f,%.0f,%d", i + 1, t * 1000000, live * t / 10,
				x->footprint_bytes * (t + 2) / 12, 3 * t);
			for (int o = 0; o <= 10; o++)
				if (o == 3 || o == 9)
					fprintf(tl, ",%.3f", (double)o / 10 * t / 10);
				else
					fputs(",", tl);
			fputc('\n', tl);
		}
		for (int t = 0; t < 4; t++)
			fprintf(flt, "%d,direct_map,%s,%d,%d\n%d,vmalloc,timed,%d,%d\n", i + 1,
				t < 2 ? "warmup" : "timed", t * 1000000, 4 + t, i + 1, t * 1000000 + 500000,
				t);
	}
	fclose(f);
	if (side) {
		fclose(lat);
		fclose(tl);
		fclose(flt);
	}
}

/*
 * Decode a PNG file (libpng); returns its width (0 when it is not a PNG)
 * and in *r_colours 1 when every pixel has the same colour, 2 otherwise.
 */
static inline unsigned fx_png(const char *path, int *r_colours)
{
	png_image img;
	unsigned char *px;
	unsigned w = 0;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	*r_colours = 0;
	if (!png_image_begin_read_from_file(&img, path))
		return 0;
	img.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(img));
	if (px && png_image_finish_read(&img, NULL, px, 0, NULL)) {
		size_t n = (size_t)img.width * img.height;

		w = img.width;
		*r_colours = 1;
		for (size_t i = 1; i < n && *r_colours == 1; i++)
			if (memcmp(px, px + 3 * i, 3))
				*r_colours = 2;
	}
	png_image_free(&img);
	free(px);
	return w;
}

/* The first pixel row of PNG path holding colour rgb (0xRRGGBB), or -1. */
static inline int fx_png_find(const char *path, unsigned rgb)
{
	png_image img;
	unsigned char *px, want[3] = { rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff };
	int y = -1;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return -1;
	img.format = PNG_FORMAT_RGB;
	px = malloc(PNG_IMAGE_SIZE(img));
	if (px && png_image_finish_read(&img, NULL, px, 0, NULL))
		for (size_t i = 0; i < (size_t)img.width * img.height && y < 0; i++)
			if (!memcmp(px + 3 * i, want, 3))
				y = (int)(i / img.width);
	png_image_free(&img);
	free(px);
	return y;
}

/* 1 if path is an SVG document: an <svg root element, closed at the end. */
static inline int fx_is_svg(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	char *root;

	if (f)
		fclose(f);
	buf[n] = 0;
	root = strstr(buf, "<svg");
	return n > 0 && root && (!strncmp(buf, "<?xml", 5) || root == buf) && strstr(root, "</svg>");
}

#endif /* MMB_TEST_FIXTURE_H */
