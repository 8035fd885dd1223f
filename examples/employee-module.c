/* The Employee type as a module: `mgrd --module libemployee.so`. */
#include "employee-type.h"

MGR_MODULE(&employee_type);
