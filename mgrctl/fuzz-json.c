/* Fuzz target for mgrctl's JSON parser: any bytes in; a parse that
 * succeeds must render back to JSON that parses to an equal value.
 * Built as a libFuzzer target with -DMGR_LIBFUZZER, else with a main()
 * that runs it over the files named on the command line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mgr_value *v = NULL, *back = NULL;
	char err[160];
	if (json_parse((const char *)data, size, &v, err, sizeof(err)))
		return 0;
	char *s = json_format(v, true);
	if (!s || json_parse(s, strlen(s), &back, err, sizeof(err)) || !mgr_value_equal(v, back))
		abort(); /* what we print must read back as the same value */
	free(s);
	mgr_value_free(v);
	mgr_value_free(back);
	return 0;
}

#ifndef MGR_LIBFUZZER
static int fuzz_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return perror(path), 1;
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= fuzz_file(argv[i]);
	return rc;
}
#endif
