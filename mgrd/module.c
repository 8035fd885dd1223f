/* Custom types from modules: `mgrd --module PATH` loads a shared object
 * that exports mgr_module_types (see MGR_MODULE in mgr/server.h) and
 * registers each type. Only paths given on the command line are loaded. */
#include <dlfcn.h>

#include "mgr/server.h"

#include "log.h"
#include "module.h"

int module_load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_msg(LOG_ERROR, "module %s: %s", path, dlerror());
		return -1;
	}
	const mgr_type_def *const *types = dlsym(h, "mgr_module_types");
	if (!types) {
		log_msg(LOG_ERROR, "module %s exports no mgr_module_types (use MGR_MODULE)", path);
		dlclose(h);
		return -1;
	}
	for (size_t i = 0; types[i]; i++) {
		int err = mgr_type_register(types[i]);
		if (err) {
			log_msg(LOG_ERROR, "module %s: type '%s': %s", path,
				types[i]->name ? types[i]->name : "(null)",
				err == MGR_EEXIST ? "a type of that name exists already" : mgr_strerror(err));
			return -1; /* the handle stays open: earlier types point into it */
		}
		log_msg(LOG_INFO, "module %s: serving type '%s'", path, types[i]->name);
	}
	return 0;
}
