/* dump and load: named objects as one JSON document, for backups,
 * migrations and tests:
 *   {"version": 1, "objects": {"cfg": {"type": "dict", "value": {...}},
 *                              "hits": {"type": "counter", "value": 42},
 *                              "jobs": {"type": "queue"}}}
 * A type whose state is data (dict, list, counter, namespace) keeps its
 * value, which load passes back as the constructor's argument; any other
 * type (locks, queues, ...) is recorded by type only and comes back new.
 * JSON's limits apply (json.h): map keys become strings, and a value
 * holding a reference to another object cannot be loaded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"

#define CMD_DUMP_MAX (256u << 20) /* a loaded document's size, at most */

static const char *const cmd_dump_data_types[] = {"dict", "list", "counter", "namespace"};

static bool cmd_dump_is_data(const char *type)
{
	for (size_t i = 0; i < sizeof(cmd_dump_data_types) / sizeof(*cmd_dump_data_types); i++)
		if (!strcmp(cmd_dump_data_types[i], type))
			return true;
	return false;
}

/* {type, value?} for one object (a row of manager.objects). */
static int cmd_dump_one(struct ctl *ctl, const mgr_value *row, mgr_value **out)
{
	const char *type = mgr_value_string(ctl_get(row, "type"), NULL);
	mgr_value *e = mgr_value_new_map();
	mgr_value_map_set(e, mgr_value_new_string("type"), mgr_value_new_string(type));
	*out = e;
	if (!cmd_dump_is_data(type))
		return CTL_OK;
	mgr_value *d = NULL, *args[] = {mgr_value_new_int(ctl_get_int(row, "id")),
					mgr_value_new_int(ctl_get_int(row, "size") + 1)};
	int rc = ctl_manager(ctl, "describe", args, 2, &d);
	if (!rc && mgr_value_bool(ctl_get(d, "truncated")))
		rc = ctl_fail("dump: %s changed while it was read: try again",
			      mgr_value_string(ctl_get(row, "name"), NULL));
	if (!rc)
		mgr_value_map_set(e, mgr_value_new_string("value"), mgr_value_copy(ctl_get(d, "value")));
	mgr_value_free(d);
	return rc;
}

static bool cmd_dump_wanted(const char *name, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return argc == 0;
}

static int cmd_dump_check(const mgr_value *all, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		bool found = false;
		for (size_t k = 0; k < mgr_value_len(all); k++) {
			const mgr_value *n = ctl_get(mgr_value_list_get(all, k), "name");
			found |= mgr_value_kind(n) == MGR_STRING && !strcmp(mgr_value_string(n, NULL), argv[i]);
		}
		if (!found)
			return ctl_fail_code(MGR_ENOOBJ, "dump: no object \"%s\" (ENOOBJ)", argv[i]);
	}
	return CTL_OK;
}

int cmd_dump(struct ctl *ctl, int argc, char **argv)
{
	mgr_value *all = NULL;
	int rc = ctl_manager(ctl, "objects", NULL, 0, &all);
	if (!rc)
		rc = cmd_dump_check(all, argc, argv);
	mgr_value *objs = mgr_value_new_map();
	for (size_t i = 0; !rc && i < mgr_value_len(all); i++) {
		const mgr_value *row = mgr_value_list_get(all, i);
		const mgr_value *name = ctl_get(row, "name");
		if (mgr_value_kind(name) != MGR_STRING ||
		    !cmd_dump_wanted(mgr_value_string(name, NULL), argc, argv))
			continue; /* anonymous objects belong to their sessions */
		mgr_value *e = NULL;
		rc = cmd_dump_one(ctl, row, &e);
		mgr_value_map_set(objs, mgr_value_copy(name), e);
	}
	mgr_value *doc = mgr_value_new_map();
	mgr_value_map_set(doc, mgr_value_new_string("version"), mgr_value_new_int(1));
	mgr_value_map_set(doc, mgr_value_new_string("objects"), objs);
	if (!rc)
		rc = ctl_print_json(doc);
	mgr_value_free(doc);
	mgr_value_free(all);
	return rc;
}

/* ---- load ---- */

static char *cmd_load_read(const char *path, size_t *len)
{
	FILE *f = !path || !strcmp(path, "-") ? stdin : fopen(path, "r");
	if (!f)
		return ctl_fail("load: %s: %s", path, strerror(errno)), NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += got;
		char *grown = n == cap && cap < CMD_DUMP_MAX ? realloc(buf, cap *= 2) : buf;
		if (!grown || n == CMD_DUMP_MAX)
			free(buf), buf = NULL;
		else
			buf = grown;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		ctl_fail("load: out of memory, or the document is over %u MiB", CMD_DUMP_MAX >> 20);
	*len = n;
	return buf;
}

/* create(type, name[, value]); with --replace an existing one is deleted
 * first. */
static int cmd_load_one(struct ctl *ctl, const mgr_value *name, const mgr_value *e)
{
	const mgr_value *type = ctl_get(e, "type"), *value = ctl_get(e, "value");
	if (mgr_value_kind(type) != MGR_STRING)
		return ctl_fail("load: \"%s\" has no type", mgr_value_string(name, NULL));
	if (ctl->flag) {
		mgr_value *target = mgr_value_copy(name);
		int err = mgr_call(mgr_client_manager(ctl->client), "delete", &target, 1, NULL);
		mgr_value_free(target);
		if (err && err != MGR_ENOOBJ)
			return ctl_fail_code(err, "load: replacing %s: %s (%s)",
					     mgr_value_string(name, NULL),
					     mgr_client_errmsg(ctl->client), mgr_errname(err));
	}
	mgr_value *args[] = {mgr_value_copy(type), mgr_value_copy(name),
			     value ? mgr_value_copy(value) : NULL};
	return ctl_manager(ctl, "create", args, value ? 3 : 2, NULL);
}

int cmd_load(struct ctl *ctl, int argc, char **argv)
{
	size_t len;
	char *text = cmd_load_read(argc ? argv[0] : NULL, &len), err[160];
	mgr_value *doc = NULL;
	if (!text)
		return CTL_FAIL;
	int rc = json_parse(text, len, &doc, err, sizeof(err))
		? ctl_fail("load: not JSON: %s", err) : CTL_OK;
	free(text);
	const mgr_value *objs = rc ? NULL : ctl_get(doc, "objects");
	if (!rc && (ctl_get_int(doc, "version") != 1 || mgr_value_kind(objs) != MGR_MAP))
		rc = ctl_fail("load: not a dump: {\"version\": 1, \"objects\": {...}} expected");
	size_t n = 0;
	for (; !rc && n < mgr_value_len(objs); n++)
		rc = cmd_load_one(ctl, mgr_value_map_key(objs, n), mgr_value_map_value(objs, n));
	if (!rc && ctl->json)
		printf("{\"loaded\": %zu}\n", n);
	else if (!rc)
		printf("loaded %zu objects\n", n);
	mgr_value_free(doc);
	return rc;
}
