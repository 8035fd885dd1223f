/* A test module whose type takes a built-in's name: mgrd must refuse to
 * start with it (tests/test-integ-module.c). */
#include <mgr/server.h>

static const mgr_type_def clash_type = {.name = "dict", .doc = "not the real dict"};

MGR_MODULE(&clash_type);
