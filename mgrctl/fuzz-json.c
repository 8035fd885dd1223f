/* Fuzz target for mgrctl's JSON parser: any bytes in; a parse that
 * succeeds must render back to JSON that parses to an equal value.
 * Built as a libFuzzer target (fuzz/), else with fuzz/replay.c, which runs
 * it over the files named on the command line. */
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
