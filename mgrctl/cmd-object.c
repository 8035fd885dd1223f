/* Verbs that make and end objects: create and rm. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static int cmd_create_print(const struct ctl *ctl, const mgr_value *ref, const char *name)
{
	if (!ctl->json) {
		printf("#%" PRIu64 " %s (%s)\n", mgr_value_ref_id(ref), name ? name : "-",
		       mgr_value_ref_type(ref));
		return CTL_OK;
	}
	mgr_value *m = mgr_value_new_map();
	mgr_value_map_set(m, mgr_value_new_string("id"), mgr_value_new_int((int64_t)mgr_value_ref_id(ref)));
	mgr_value_map_set(m, mgr_value_new_string("name"),
			  name ? mgr_value_new_string(name) : mgr_value_new_nil());
	mgr_value_map_set(m, mgr_value_new_string("type"), mgr_value_new_string(mgr_value_ref_type(ref)));
	int rc = ctl_print_json(m);
	mgr_value_free(m);
	return rc;
}

/* The manager's argument 1: the name (or nil), or with --mode the options
 * map {name, mode} (a manager without permissions refuses the map). */
static mgr_value *cmd_create_name(const struct ctl *ctl, const char *name)
{
	mgr_value *n = name ? mgr_value_new_string(name) : mgr_value_new_nil();
	if (!ctl->opt[0])
		return n;
	mgr_value *m = mgr_value_new_map();
	if (m && (mgr_value_map_set(m, mgr_value_new_string("name"), n) ||
		  mgr_value_map_set(m, mgr_value_new_string("mode"),
				    mgr_value_new_string(ctl->opt[0])))) {
		mgr_value_free(m);
		return NULL;
	}
	if (!m)
		mgr_value_free(n);
	return m;
}

/* create TYPE [NAME|-] [ARG...]: "-" (or no NAME) makes an anonymous
 * object, which ends with this mgrctl's session: mostly useful to check
 * that arguments are accepted. */
int cmd_create(struct ctl *ctl, int argc, char **argv)
{
	const char *name = argc > 1 && strcmp(argv[1], "-") ? argv[1] : NULL;
	int nargs = argc > 2 ? argc - 2 : 0;
	mgr_value **args = calloc((size_t)nargs + 2, sizeof(*args));
	if (!args)
		return ctl_fail("out of memory");
	int rc = ctl_json_args(ctl, nargs, argv + 2, args + 2);
	mgr_value *ref = NULL;
	if (rc == CTL_OK) {
		args[0] = mgr_value_new_string(argv[0]);
		args[1] = cmd_create_name(ctl, name);
		rc = ctl_manager(ctl, "create", args, (size_t)nargs + 2, &ref);
	}
	if (rc == CTL_OK)
		rc = cmd_create_print(ctl, ref, name);
	if (rc == CTL_OK && !name)
		fprintf(stderr, "mgrctl: note: an anonymous object ends when mgrctl exits\n");
	mgr_value_free(ref);
	free(args);
	return rc;
}

int cmd_rm(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	mgr_value *target = ctl_target(argv[0]);
	if (!target)
		return CTL_FAIL;
	mgr_value *args[] = {target, mgr_value_new_bool(true)};
	int rc = ctl_manager(ctl, "delete", args, ctl->flag ? 2 : 1, NULL);
	if (!ctl->flag)
		mgr_value_free(args[1]);
	if (rc == CTL_OK && ctl->json)
		printf("{\"deleted\": true}\n");
	return rc;
}
