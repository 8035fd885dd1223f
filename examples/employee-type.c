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

static int employee_increase(void *state, mgr_request *call)
{
	struct employee *e = state;
	int64_t amount = 100;
	if (mgr_request_nargs(call) && mgr_request_arg_int(call, 0, &amount))
		return MGR_EARGS;
	if (e->nhistory == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		int64_t *h = realloc(e->history, cap * sizeof(*h));
		if (!h)
			return MGR_ENOMEM;
		e->history = h;
		e->cap = cap;
	}
	e->salary += amount;
	e->history[e->nhistory++] = e->salary;
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
	{"increase", employee_increase, 0, 1, "amount=100", "raise the salary; the new salary"},
	{"get_pay", employee_get_pay, 0, 0, "", "\"name:salary\""},
	{"history", employee_history, 0, 0, "", "every salary after a raise, in order"},
	{"history_list", employee_history_list, 0, 0, "",
	 "the history as a new shared list (a ref)"},
};

const mgr_type_def employee_type = {
	.name = "employee",
	.doc = "an employee: name, salary, history of raises",
	.init = employee_init,
	.destroy = employee_destroy,
	.methods = employee_methods,
	.nmethods = sizeof(employee_methods) / sizeof(employee_methods[0]),
};
