/* Introspection from the manager's type tables: types and methods. */
#include <stdio.h>

#include "cmd.h"
#include "table.h"

static void cmd_types_print(const mgr_value *v)
{
	for (size_t i = 0; i < mgr_value_len(v); i++)
		printf("%s\n", mgr_value_string(mgr_value_list_get(v, i), NULL));
}

int cmd_types(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl_view(ctl, "types", NULL, 0, cmd_types_print);
}

static void cmd_flags(const mgr_value *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s", mgr_value_bool(v) ? "blocking" : "");
}

static void cmd_methods_print(const mgr_value *v)
{
	static const struct table_col cols[] = {
		{"METHOD", "name"}, {"ARGS", "args"}, {"FLAGS", "blocking", cmd_flags}, {"DOC", "doc"},
	};
	table_print(COLS(cols), v);
}

int cmd_methods(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	mgr_value *type = mgr_value_new_string(argv[0]);
	return ctl_view(ctl, "methods", &type, 1, cmd_methods_print);
}
