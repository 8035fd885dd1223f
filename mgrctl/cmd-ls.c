/* Verbs about objects as they are: ls (every object) and show (one
 * object's contents). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "table.h"

static const struct table_col cmd_ls_cols[] = {
	{"ID", "id", table_fmt_id, true},
	{"NAME", "name"},
	{"TYPE", "type"},
	{"SIZE", "size", NULL, true},
	{"REFS", "refs", NULL, true},
	{"CALLS", "calls", NULL, true},
	{"CREATOR", "creator_pid", NULL, true},
	{"HOLDER", "holder_pid", NULL, true}, /* sync types; "-": none */
	{"WAITERS", "waiters", NULL, true},
	{"OWNER", "owner_uid", NULL, true},
	{"MODE", "mode"}, /* rwd for owner, group, others; "-": a manager without */
};

static int cmd_ls_cmp(const void *a, const void *b)
{
	int64_t x = ctl_get_int(*(const mgr_value *const *)a, "id");
	int64_t y = ctl_get_int(*(const mgr_value *const *)b, "id");
	return (x > y) - (x < y);
}

/* The rows of objects of type (NULL: all), sorted by id. Caller owns. */
static mgr_value *cmd_ls_rows(const mgr_value *objects, const char *type)
{
	size_t n = mgr_value_len(objects), k = 0;
	const mgr_value **rows = calloc(n + 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++) {
		const mgr_value *row = mgr_value_list_get(objects, i);
		const mgr_value *t = ctl_get(row, "type");
		if (!type || (t && !strcmp(mgr_value_string(t, NULL), type)))
			rows[k++] = row;
	}
	if (rows)
		qsort(rows, k, sizeof(*rows), cmd_ls_cmp);
	mgr_value *l = rows ? mgr_value_new_list() : NULL;
	for (size_t i = 0; l && i < k; i++)
		if (mgr_value_list_append(l, mgr_value_copy(rows[i]))) {
			mgr_value_free(l); /* append freed the item, not the list */
			l = NULL;
		}
	free(rows);
	return l;
}

/* --type names a type the manager serves: a typo is an error, not an
 * empty table. */
static int cmd_ls_check_type(struct ctl *ctl, const char *type)
{
	mgr_value *types = NULL;
	int rc = type ? ctl_manager(ctl, "types", NULL, 0, &types) : CTL_OK;
	bool found = !type;
	for (size_t i = 0; !rc && i < mgr_value_len(types); i++)
		found |= !strcmp(mgr_value_string(mgr_value_list_get(types, i), NULL), type);
	mgr_value_free(types);
	if (!rc && !found)
		rc = ctl_fail_code(MGR_ENOTYPE, "ls: no type '%s' (see mgrctl types) (ENOTYPE)", type);
	return rc;
}

static void cmd_ls_names(const mgr_value *rows)
{
	for (size_t i = 0; i < mgr_value_len(rows); i++) {
		const mgr_value *n = ctl_get(mgr_value_list_get(rows, i), "name");
		if (mgr_value_kind(n) == MGR_STRING)
			puts(mgr_value_string(n, NULL));
	}
}

int cmd_ls(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mgr_value *all = NULL;
	int rc = cmd_ls_check_type(ctl, ctl->opt[0]);
	if (!rc)
		rc = ctl_manager(ctl, "objects", NULL, 0, &all);
	mgr_value *rows = rc ? NULL : cmd_ls_rows(all, ctl->opt[0]);
	if (!rc && !rows)
		rc = ctl_fail("out of memory");
	if (!rc && ctl->flag && !ctl->json)
		cmd_ls_names(rows);
	else if (!rc && ctl->json)
		rc = ctl_print_json(rows);
	else if (!rc)
		table_print(COLS(cmd_ls_cols), rows);
	mgr_value_free(all);
	mgr_value_free(rows);
	return rc;
}

/* ---- show ---- */

/* A container's items as (key, value) rows for table_print. */
static mgr_value *cmd_show_items(const mgr_value *v)
{
	bool map = mgr_value_kind(v) == MGR_MAP;
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < mgr_value_len(v); i++) {
		mgr_value *row = mgr_value_new_map();
		mgr_value_map_set(row, mgr_value_new_string("k"),
				  map ? mgr_value_copy(mgr_value_map_key(v, i)) : mgr_value_new_int((int64_t)i));
		mgr_value_map_set(row, mgr_value_new_string("v"),
				  mgr_value_copy(map ? mgr_value_map_value(v, i) : mgr_value_list_get(v, i)));
		if (mgr_value_list_append(l, row)) {
			mgr_value_free(l);
			l = NULL;
		}
	}
	return l;
}

static void cmd_show_header(const mgr_value *d)
{
	static const struct table_col cols[] = {
		{"id", "id", table_fmt_id}, {"name", "name"},	{"type", "type"},
		{"size", "size"},	    {"refs", "refs"},	{"calls", "calls"},
		{"creator", "creator_pid"}, {"owner", "owner_uid"}, {"group", "owner_gid"},
		{"mode", "mode"},
	};
	table_print_fields(COLS(cols), d);
}

static void cmd_show_print(const mgr_value *d)
{
	static const struct table_col map_cols[] = {{"KEY", "k"}, {"VALUE", "v", table_fmt_repr}};
	static const struct table_col list_cols[] = {{"INDEX", "k", NULL, true},
						     {"VALUE", "v", table_fmt_repr}};
	const mgr_value *v = ctl_get(d, "value");
	mgr_kind k = mgr_value_kind(v);
	cmd_show_header(d);
	putchar('\n');
	if (k != MGR_MAP && k != MGR_LIST) {
		char buf[4096];
		printf("%s\n", mgr_value_format(v, buf, sizeof(buf)));
		return;
	}
	mgr_value *rows = cmd_show_items(v);
	if (k == MGR_MAP)
		table_print(COLS(map_cols), rows);
	else
		table_print(COLS(list_cols), rows);
	mgr_value_free(rows);
	/* a sync type's state map cuts its "items" (a queue's) */
	const mgr_value *items = ctl_get(v, "items");
	if (mgr_value_kind(items) != MGR_LIST)
		items = v;
	if (mgr_value_bool(ctl_get(d, "truncated")))
		printf("... %zu of %" PRId64 " shown (--limit N)\n", mgr_value_len(items),
		       ctl_get_int(d, "size"));
}

/* #0, the manager: its info as the value, in describe's shape. */
static mgr_value *cmd_show_manager(mgr_value *info)
{
	mgr_value *d = mgr_value_new_map();
	mgr_value_map_set(d, mgr_value_new_string("id"), mgr_value_new_int(0));
	mgr_value_map_set(d, mgr_value_new_string("name"), mgr_value_new_nil());
	mgr_value_map_set(d, mgr_value_new_string("type"), mgr_value_new_string("manager"));
	mgr_value_map_set(d, mgr_value_new_string("value"), info);
	return d;
}

static int cmd_show_zero(struct ctl *ctl)
{
	mgr_value *info = NULL;
	int rc = ctl_manager(ctl, "info", NULL, 0, &info);
	if (rc)
		return rc;
	mgr_value *d = cmd_show_manager(info);
	if (ctl->json)
		rc = ctl_print_json(d);
	else
		cmd_show_print(d);
	mgr_value_free(d);
	return rc;
}

/* --all: the whole dict or list, walked with an iterator in batches of
 * 1,000, each entry printed as it comes: a million-entry dict never
 * travels as one reply, nor sits whole in mgrctl. */
static int cmd_show_walk(struct ctl *ctl, const char *obj, const char *type)
{
	bool dict = !strcmp(type, "dict");
	if (!dict && strcmp(type, "list"))
		return CTL_OK; /* not a container: describe showed it all */
	mgr_object *o;
	mgr_iter *it = NULL;
	int rc = ctl_object(ctl, obj, &o);
	if (rc)
		return rc;
	int err = dict ? mgr_dict_iter_open(o, MGR_DICT_ITEMS, 1000, &it)
		       : mgr_list_iter_open(o, 1000, &it);
	const mgr_value *e;
	char k[256], v[4096];
	for (int64_t i = 0; !err && !(err = mgr_iter_next(it, &e)); i++)
		if (dict)
			printf("%s\t%s\n", mgr_value_format(mgr_value_list_get(e, 0), k, sizeof(k)),
			       mgr_value_format(mgr_value_list_get(e, 1), v, sizeof(v)));
		else
			printf("%" PRId64 "\t%s\n", i, mgr_value_format(e, v, sizeof(v)));
	mgr_iter_close(it);
	ctl_object_done(ctl, o);
	if (err == MGR_ESTOP)
		return CTL_OK;
	return ctl_fail_code(err, "%s: %s", obj, mgr_client_errmsg(ctl->client));
}

static int cmd_show_all(struct ctl *ctl, const char *obj, mgr_value *target)
{
	if (ctl->json) {
		mgr_value_free(target);
		return ctl_usage(ctl, "--all prints text; `mgrctl dump` gives JSON");
	}
	mgr_value *d = NULL, *args[] = {target, mgr_value_new_int(0)};
	int rc = ctl_manager(ctl, "describe", args, 2, &d);
	if (rc)
		return rc;
	cmd_show_header(d);
	putchar('\n');
	const mgr_value *type = ctl_get(d, "type");
	rc = cmd_show_walk(ctl, obj, mgr_value_kind(type) == MGR_STRING
					     ? mgr_value_string(type, NULL) : "");
	mgr_value_free(d);
	return rc;
}

int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	long limit = ctl->opt[0] ? ctl_parse_count(ctl->opt[0]) : 100;
	if (limit < 0)
		return ctl_usage(ctl, "--limit takes a count, not '%s'", ctl->opt[0]);
	mgr_value *target = ctl_target(argv[0]);
	if (!target)
		return CTL_FAIL;
	if (mgr_value_kind(target) == MGR_INT && mgr_value_int(target) == 0) {
		mgr_value_free(target);
		return cmd_show_zero(ctl);
	}
	if (ctl->flag)
		return cmd_show_all(ctl, argv[0], target);
	mgr_value *args[] = {target, mgr_value_new_int(limit)};
	return ctl_view(ctl, "describe", args, 2, cmd_show_print);
}
