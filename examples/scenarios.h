/* The classic programs as functions, so that each example program and the
 * `make demo` showcase run the same code against a manager. */
#ifndef EXAMPLES_SCENARIOS_H
#define EXAMPLES_SCENARIOS_H

#include <mgr/mgr.h>

#define SCENARIO_WORKERS 10

/* 3 tickets, 10 buyers, an atomic take: 0 if exactly 3 bought. */
int scenario_tickets(mgr_client *c);
/* 10 workers call increase() on one employee: 0 if zhangsan:2000 and the
 * history is in order. Needs a manager serving employee_type. */
int scenario_employee(mgr_client *c);

#endif
