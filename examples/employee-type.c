/* The Employee custom type (Python: BaseManager.register('Employee',
 * Employee)): a name, a salary and the history of raises. The same code is
 * registered by examples/employee.c and built as a module for
 * `mgrd --module`. Every call runs under the object's lock, so increase()
 * needs no lock of the caller's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "employee-type.h"

struct employee {
	char name[64];
	int64_t salary;
	int64_t *history;
	size_t nhistory, cap;
};

static int employee_init(void **state, mgr_request *call)
{
	const char *name;
	int64_t salary;
	int err = mgr_request_arg_string(call, 0, &name);
	if (!err)
		err = mgr_request_arg_int(call, 1, &salary);
	if (err)
		return err;
	struct employee *e = calloc(1, sizeof(*e));
	if (!e)
		return MGR_ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->salary = salary;
	*state = e;
	return 0;
}

static void employee_destroy(void *state)
{
	struct employee *e = state;
	if (e)
		free(e->history);
	free(e);
}

static int employee_push(struct employee *e, int64_t salary)
{
	if (e->nhistory == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		int64_t *h = realloc(e->history, cap * sizeof(*h));
		if (!h)
			return MGR_ENOMEM;
		e->history = h;
		e->cap = cap;
	}
	e->history[e->nhistory++] = salary;
	return 0;
}

static int employee_increase(void *state, mgr_request *call)
{
	struct employee *e = state;
	int64_t amount = 100;
	if (mgr_request_nargs(call) && mgr_request_arg_int(call, 0, &amount))
		return MGR_EARGS;
	if (employee_push(e, e->salary + amount))
		return MGR_ENOMEM;
	e->salary += amount;
	return mgr_request_return(call, mgr_value_new_int(e->salary));
}

static int employee_get_pay(void *state, mgr_request *call)
{
	struct employee *e = state;
	char buf[96];
	snprintf(buf, sizeof(buf), "%s:%lld", e->name, (long long)e->salary);
	return mgr_request_return(call, mgr_value_new_string(buf));
}

static mgr_value *employee_history_value(const struct employee *e)
{
	mgr_value *l = mgr_value_new_list();
	for (size_t i = 0; l && i < e->nhistory; i++)
		if (mgr_value_list_append(l, mgr_value_new_int(e->history[i]))) {
			mgr_value_free(l);
			return NULL;
		}
	return l;
}

static int employee_history(void *state, mgr_request *call)
{
	return mgr_request_return(call, employee_history_value(state));
}

/* Python's method_to_typeid: the history as a new shared list object. */
static int employee_history_list(void *state, mgr_request *call)
{
	mgr_value *items = employee_history_value(state), *ref = NULL;
	if (!items)
		return MGR_ENOMEM;
	int err = mgr_request_create(call, "list", &items, 1, &ref);
	mgr_value_free(items);
	return err ? err : mgr_request_return(call, ref);
}

static const mgr_method_def employee_methods[] = {
	{"increase", employee_increase, 0, 1, "amount=100", "raise the salary; the new salary",
	 MGR_METHOD_INLINE},
	{"get_pay", employee_get_pay, 0, 0, "", "\"name:salary\"", MGR_METHOD_INLINE},
	{"history", employee_history, 0, 0, "", "every salary after a raise, in order",
	 MGR_METHOD_INLINE},
	{"history_list", employee_history_list, 0, 0, "",
	 "the history as a new shared list (a ref)", 0},
};

/* For `mgrd --snapshot`: {name, salary, history}. */
static mgr_value *employee_save(const void *state)
{
	const struct employee *e = state;
	mgr_value *m = mgr_value_new_map();
	if (!m || mgr_value_map_set(m, mgr_value_new_string("name"), mgr_value_new_string(e->name)) ||
	    mgr_value_map_set(m, mgr_value_new_string("salary"), mgr_value_new_int(e->salary)) ||
	    mgr_value_map_set(m, mgr_value_new_string("history"), employee_history_value(e))) {
		mgr_value_free(m);
		return NULL;
	}
	return m;
}

static const mgr_value *employee_field(const mgr_value *m, const char *key, mgr_kind kind)
{
	mgr_value *k = mgr_value_new_string(key);
	const mgr_value *v = mgr_value_map_get(m, k);
	mgr_value_free(k);
	return v && mgr_value_kind(v) == kind ? v : NULL;
}

static int employee_load(const mgr_value *saved, void **state)
{
	const mgr_value *name = employee_field(saved, "name", MGR_STRING),
			*salary = employee_field(saved, "salary", MGR_INT),
			*hist = employee_field(saved, "history", MGR_LIST);
	if (!name || !salary || !hist)
		return MGR_ETYPE;
	struct employee *e = calloc(1, sizeof(*e));
	if (!e)
		return MGR_ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", mgr_value_string(name, NULL));
	e->salary = mgr_value_int(salary);
	for (size_t i = 0; i < mgr_value_len(hist); i++)
		if (employee_push(e, mgr_value_int(mgr_value_list_get(hist, i)))) {
			employee_destroy(e);
			return MGR_ENOMEM;
		}
	*state = e;
	return 0;
}

const mgr_type_def employee_type = {
	.name = "employee",
	.doc = "an employee: name, salary, history of raises",
	.init = employee_init,
	.destroy = employee_destroy,
	.methods = employee_methods,
	.nmethods = sizeof(employee_methods) / sizeof(employee_methods[0]),
	.save = employee_save,
	.load = employee_load,
};
