/*
 * replay - run a fuzz harness over files without a fuzzer
 *
 * Each argument is a file or a directory of files; every file is fed once
 * to LLVMFuzzerTestOneInput().  Prints TAP: one test point per argument,
 * passing when every file went through (a crash ends the run, and with
 * SANITIZE=1 a sanitizer report fails it).  Used by `make check` so that
 * a crash once found and saved in a seed corpus stays found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* replay_file - feed one file; -1 when it cannot be read */
static int
replay_file(const char *path)
{
	FILE *fp;
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (len == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(data, cap)) == NULL) {
				free(data);
				fclose(fp);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, failed = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		int count = 0, bad = 0;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			char path[4096];

			while (d != NULL && (de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    de->d_name);
				if (replay_file(path) < 0)
					bad++;
				count++;
			}
			if (d != NULL)
				closedir(d);
			else
				bad++;
		} else {
			bad += replay_file(argv[i]) < 0;
			count++;
		}
		printf("%sok %d - %s: %d inputs replayed\n",
		    bad || count == 0 ? "not " : "", i, argv[i], count);
		failed += bad || count == 0;
	}
	printf("1..%d\n", argc - 1);
	return failed ? 1 : 0;
}
