/* test.stuck as a module: `mgrd --module libmodule-stuck.so`. */
#include "stuck-type.h"

MGR_MODULE(&stuck_type);
