/* The list of built-in types: adding a type is adding a row. */
#include "types-builtin.h"

static const struct type *const types_builtin[] = {
	&type_manager,
	&type_counter,
	&type_dict,
	&type_list,
	&type_lock,
	&type_rlock,
	&type_semaphore,
	&type_bounded_semaphore,
	&type_event,
	&type_condition,
	&type_barrier,
	&type_queue,
	&type_joinable_queue,
	&type_namespace,
	&type_iterator,
	&type_pipe,
};

int types_builtin_register(void)
{
	for (size_t i = 0; i < sizeof(types_builtin) / sizeof(types_builtin[0]); i++)
		if (!types_find(types_builtin[i]->name)) {
			int err = types_register(types_builtin[i]);
			if (err)
				return err;
		}
	return 0;
}
