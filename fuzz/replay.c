/* Runs a fuzz target over files, without libFuzzer: each argument is a
 * file or a directory of files (a corpus). Linked with a fuzz-*.c into the
 * regression tests (tests/meson.build), so every build replays the seeds
 * and tests/fuzz-regress/ — the inputs the fuzzers once crashed on. A
 * target that finds a bug aborts, which fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return perror(path), 1;
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* a copy of exactly n bytes, so ASan sees reads past the input */
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		return 1;
	memcpy(p, buf, n);
	LLVMFuzzerTestOneInput(p, n);
	free(p);
	return 0;
}

static int replay_path(const char *path, size_t *count)
{
	struct stat st;
	if (stat(path, &st))
		return perror(path), 1;
	if (!S_ISDIR(st.st_mode))
		return (*count)++, replay_file(path);
	DIR *d = opendir(path);
	if (!d)
		return perror(path), 1;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rc |= replay_path(sub, count);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		rc |= replay_path(argv[i], &count);
	printf("replayed %zu inputs\n", count);
	return rc;
}
