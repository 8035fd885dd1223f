/* call: one method on one object, arguments and result as JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "json.h"

static void cmd_call_print(const mgr_value *v)
{
	char *s = json_format(v, false);
	if (s)
		puts(s);
	free(s);
}

int cmd_call(struct ctl *ctl, int argc, char **argv)
{
	int nargs = argc - 2;
	mgr_value **args = calloc((size_t)nargs + 1, sizeof(*args));
	if (!args)
		return ctl_fail("out of memory");
	int rc = ctl_json_args(ctl, nargs, argv + 2, args);
	mgr_object *o = NULL;
	if (rc == CTL_OK)
		rc = ctl_object(ctl, argv[0], &o);
	else
		nargs = 0;
	mgr_value *result = NULL;
	if (rc == CTL_OK) {
		rc = ctl_call(o, argv[1], args, (size_t)nargs, &result);
		nargs = 0; /* consumed */
	}
	if (rc == CTL_OK && ctl->json)
		rc = ctl_print_json(result);
	else if (rc == CTL_OK)
		cmd_call_print(result);
	for (int i = 0; i < nargs; i++)
		mgr_value_free(args[i]);
	free(args);
	mgr_value_free(result);
	if (o)
		ctl_object_done(ctl, o);
	return rc;
}
