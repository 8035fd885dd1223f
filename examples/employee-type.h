/* The Employee custom type, shared by examples/employee.c and the module. */
#ifndef EXAMPLES_EMPLOYEE_TYPE_H
#define EXAMPLES_EMPLOYEE_TYPE_H

#include <mgr/server.h>

extern const mgr_type_def employee_type;

#endif
